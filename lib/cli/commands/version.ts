/**
 * `deploy.ts version --service=S [--write] [--tag] [--notes=FILE] [--sync] [--json]`: the next
 * version of one service; `--write` puts it into `<service>/package.json` (and bun.lock), `--tag`
 * creates the annotated tag `<service>-vX.Y.Z` on HEAD, `--notes` writes its release notes (its
 * CHANGELOG section), `--sync` brings package.json and CHANGELOG.md in line with the release tags
 * (after a release). With nothing to release it says so, changes nothing else, exits 0.
 */
import { resolve } from "node:path";
import { UsageError } from "../../errors";
import { SERVICES } from "../../services";
import { defineCommand } from "../command";
import { jsonArg } from "../flags";

export default defineCommand({
  name: "version",
  description: "Compute (and optionally write and tag) a service's next version",
  args: {
    service: {
      type: "enum",
      options: [...SERVICES],
      required: true,
      valueHint: "service",
      description: "The service to version (required)",
    },
    write: { type: "boolean", description: "Write the next version into <service>/package.json" },
    tag: { type: "boolean", description: "Create the annotated tag <service>-vX.Y.Z on HEAD" },
    notes: {
      type: "string",
      description: "Write the next release's notes (its CHANGELOG section, markdown) to this file",
      valueHint: "file",
    },
    sync: {
      type: "boolean",
      description:
        "Set <service>/package.json (and bun.lock) to the last released version and regenerate <service>/CHANGELOG.md from the release tags",
    },
    ...jsonArg,
  },
  options: (values) => {
    if (values.write && values.sync) {
      throw new UsageError(
        "--write and --sync both set the version in package.json: --write the next one, --sync the last released one; give one",
      );
    }
    return {
      service: values.service,
      write: values.write,
      tag: values.tag,
      notes: values.notes === undefined ? undefined : resolve(values.notes),
      sync: values.sync,
      json: values.json,
    };
  },
  async run(options, io) {
    const { formatVersionReport, runVersion } = await import("../../release/report");
    const report = await runVersion({ ...options, cwd: process.cwd() });
    io.stdout(`${options.json ? JSON.stringify(report) : formatVersionReport(report)}\n`);
  },
});
