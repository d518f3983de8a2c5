/**
 * `deploy.ts build --service=S [--version=X.Y.Z]`: the service's image from the working tree,
 * tagged timekit/S:X.Y.Z, :X.Y, :X (stable versions only) and :sha-<commit>, with OCI labels
 * from the version and commit. Without --version: timekit/S:dev (what `up` builds for `dev`).
 */
import { Progress } from "../../deploy/progress";
import { defineCommand } from "../command";
import { check, jsonArg, quietArg } from "../flags";
import { type Problems, releaseVersion } from "../values";
import { serviceArg, versionArg } from "./release-args";

export default defineCommand({
  name: "build",
  description:
    "Build one service's image from the working tree, tagged X.Y.Z, X.Y, X and sha-<commit> (no registry needed)",
  args: { ...serviceArg, ...versionArg, ...jsonArg, ...quietArg },
  options(values) {
    const problems: Problems = [];
    const version = values.version === undefined ? undefined : releaseVersion("version", values.version, problems);
    check(problems);
    return { service: values.service, version, json: values.json, quiet: values.quiet };
  },
  async run({ service, version, json, quiet }, io) {
    const progress = new Progress(io, quiet);
    const { buildRelease } = await import("../../images/release");
    const result = await progress.step(`${service} ${version ?? "dev"}: build image`, () =>
      buildRelease(service, version, (line) => progress.note(line)),
    );
    io.stdout(
      json
        ? `${JSON.stringify(result, null, 2)}\n`
        : `built ${service} ${result.version} (${result.commit}) ${result.id}\n${result.tags.map((t) => `  ${t}`).join("\n")}\n`,
    );
  },
});
