/**
 * `deploy.ts integrate --service=S --version=X.Y.Z [--registry=R] [--other_version=V]`: the
 * release's integration stage, before anything is published. Deploys the local candidate
 * timekit/S:X.Y.Z (what `build` made) beside the other service — its known-good (default), its
 * own candidate from this commit (`candidate`), its source (`dev`) or a published version — on a
 * throwaway Compose project, runs the health gate and the end-to-end check, and tears it down.
 * Exit 0 passed, 1 failed (the candidate must not be published), 2 bad usage.
 */
import type { IntegrateRequest, OtherVersion } from "../../deploy/actions/integrate";
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
    "Test a built candidate end to end beside the other service (known-good, its candidate, or dev) on a throwaway project, then tear it down",
  args: {
    ...serviceArg,
    ...requiredVersionArg,
    ...registryArg("Where the other service's known-good or published version is pulled from (env REGISTRY)"),
    other_version: {
      type: "string",
      description:
        "What the other service runs: known-good (default), candidate (its next release, built from this commit), dev (built from the working tree), or a published version",
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
    const other: OtherVersion =
      values.other_version === "candidate"
        ? { kind: "candidate" }
        : (version(
            "other_version",
            values.other_version ?? KNOWN_GOOD,
            problems,
            "known-good, candidate, dev or a published tag such as 1.2.3",
          ) ?? { kind: "known-good" });
    const project = checkProject(values.project ?? `timekit-integrate-${service}-${process.pid}`, problems);
    const healthTimeoutMs = healthTimeoutFrom(values, problems);
    check(problems);
    if (!registry && (other.kind === "known-good" || other.kind === "tag")) {
      throw new UsageError(
        `integrate --other_version=${other.kind === "tag" ? other.tag : KNOWN_GOOD} pulls the other service from a registry: give --registry=R (or env REGISTRY)`,
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
