/**
 * `deploy.ts integrate --service=S --version=X.Y.Z --registry=R`: the release's integration
 * stage. Deploys R/S:X.Y.Z beside the other service's known-good image on a throwaway Compose
 * project, runs the health gate and the end-to-end check, and tears it down. Exit 0 passed,
 * 1 failed (the candidate must not be promoted), 2 bad usage.
 */
import { defineCommand } from "citty";
import { gateArgs, releaseArgs, releaseOutputArgs } from "../args";
import { UsageError } from "../errors";
import { type FlagValues, flagString } from "../flags";
import { registryFlag, serviceFlag, versionFlag } from "../release-flags";
import { parseVersion } from "../versions";

export default defineCommand({
  meta: {
    name: "integrate",
    description:
      "Test a published candidate end to end beside the other service's known-good image on a throwaway project, then tear it down",
  },
  args: {
    ...releaseArgs,
    registry: {
      type: "string",
      description: "The registry the candidate was published to and known-good lives in (env REGISTRY)",
      valueHint: "registry",
    },
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
    ...releaseOutputArgs,
  },
  async run({ data }) {
    const args = data as FlagValues;
    const service = serviceFlag(args, "integrate");
    const version = versionFlag(args, "integrate", true) as string;
    const registry = registryFlag(args);
    if (!registry) {
      throw new UsageError(
        "integrate needs --registry=R (or env REGISTRY): the candidate is pulled from it",
        `e.g. bun deploy.ts integrate --service=${service} --version=${version} --registry=127.0.0.1:5000/timekit`,
      );
    }
    const otherVersion = flagString(args, "other_version") ?? "known-good";
    if (!parseVersion(otherVersion)) {
      throw new UsageError(
        `--other_version=${JSON.stringify(otherVersion)} is not a version; use known-good, dev or a published tag such as 1.2.3`,
      );
    }
    const { integrate } = await import("../integrate");
    const r = await integrate({
      service,
      version,
      registry,
      otherVersion,
      project: flagString(args, "project"),
      healthTimeout: flagString(args, "health_timeout"),
      quiet: args.quiet === true,
    });
    process.stdout.write(
      args.json === true
        ? `${JSON.stringify({ result: "passed", ...r }, null, 2)}\n`
        : `integration passed: ${service} ${version} (${r.candidate.digest}) with ${r.other.service} ${r.other.version} (${r.other.digest}); project ${r.project} removed\n`,
    );
  },
});
