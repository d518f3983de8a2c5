/**
 * `deploy.ts integrate --service=S --version=X.Y.Z --registry=R`: the release's integration
 * stage. Deploys R/S:X.Y.Z beside the other service's known-good image on a throwaway Compose
 * project, runs the health gate and the end-to-end check, and tears it down. Exit 0 passed,
 * 1 failed (the candidate must not be promoted), 2 bad usage.
 */
import type { IntegrateRequest } from "../../deploy/actions/integrate";
import { UsageError } from "../../errors";
import { KNOWN_GOOD } from "../../images/registry";
import { defineCommand } from "../command";
import { check, composeSettings, gateArgs, healthTimeoutFrom, jsonArg, quietArg } from "../flags";
import { project as checkProject, registry as checkRegistry, type Problems, releaseVersion, version } from "../values";
import { registryArg, requiredVersionArg, serviceArg } from "./release-args";

export interface IntegrateOptions {
  request: IntegrateRequest;
  json: boolean;
}

export default defineCommand({
  name: "integrate",
  description:
    "Test a published candidate end to end beside the other service's known-good image on a throwaway project, then tear it down",
  args: {
    ...serviceArg,
    ...requiredVersionArg,
    ...registryArg("The registry the candidate was published to and known-good lives in (env REGISTRY)"),
    other_version: {
      type: "string",
      description:
        "What the other service runs: known-good (default), a published version, or dev (built from the working tree)",
      valueHint: "version",
    },
    project: {
      type: "string",
      description: "Compose project name of the throwaway stack (default timekit-integrate-<service>-<pid>)",
      valueHint: "name",
    },
    ...gateArgs,
    ...jsonArg,
    ...quietArg,
  },
  options(values, io): IntegrateOptions {
    const problems: Problems = [];
    const service = values.service;
    const candidate = releaseVersion("version", values.version, problems) ?? "";
    const registry = checkRegistry(values.registry ?? (io.env.REGISTRY || undefined), problems);
    // A bad value is a problem thrown below; the fallback is never used then.
    const other = version(
      "other_version",
      values.other_version ?? KNOWN_GOOD,
      problems,
      "known-good, dev or a published tag such as 1.2.3",
    ) ?? { kind: "known-good" };
    const project = checkProject(values.project ?? `timekit-integrate-${service}-${process.pid}`, problems);
    const healthTimeoutMs = healthTimeoutFrom(values, problems);
    check(problems);
    if (!registry) {
      throw new UsageError(
        "integrate needs --registry=R (or env REGISTRY): the candidate is pulled from it",
        `e.g. bun deploy.ts integrate --service=${service} --version=${candidate} --registry=127.0.0.1:5000/timekit`,
      );
    }
    return {
      request: {
        service,
        version: candidate,
        registry,
        other,
        project,
        healthTimeoutMs,
        compose: composeSettings(io),
        quiet: values.quiet,
      },
      json: values.json,
    };
  },
  async run({ request, json }, io) {
    const { integrate } = await import("../../deploy/actions/integrate");
    const r = await integrate(request, io);
    io.stdout(
      json
        ? `${JSON.stringify({ result: "passed", ...r }, null, 2)}\n`
        : `integration passed: ${request.service} ${request.version} (${r.candidate.digest}) with ${r.other.service} ${r.other.version} (${r.other.digest}); project ${r.project} removed\n`,
    );
  },
});
