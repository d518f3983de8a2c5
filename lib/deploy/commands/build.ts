/**
 * `deploy.ts build --service=S [--version=X.Y.Z]`: the service's image from the working tree,
 * tagged timekit/S:X.Y.Z, :X.Y, :X (stable versions only) and :sha-<commit>, with OCI labels
 * from the version and commit. Without --version: timekit/S:dev (what `up` builds for `dev`).
 */
import { defineCommand } from "citty";
import { releaseArgs, releaseOutputArgs } from "../args";
import type { FlagValues } from "../flags";
import { Progress } from "../progress";
import { serviceFlag, versionFlag } from "../release-flags";

export default defineCommand({
  meta: {
    name: "build",
    description:
      "Build one service's image from the working tree, tagged X.Y.Z, X.Y, X and sha-<commit> (no registry needed)",
  },
  args: { ...releaseArgs, ...releaseOutputArgs },
  async run({ data }) {
    const args = data as FlagValues;
    const service = serviceFlag(args, "build");
    const version = versionFlag(args, "build", false);
    const progress = new Progress(args.quiet === true);
    const { buildRelease } = await import("../release");
    const result = await progress.step(`${service} ${version ?? "dev"}: build image`, () =>
      buildRelease(service, version, (line) => progress.note(line)),
    );
    if (args.json === true) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `built ${service} ${result.version} (${result.commit}) ${result.id}\n${result.tags.map((t) => `  ${t}`).join("\n")}\n`,
    );
  },
});
