/**
 * `deploy.ts version --service=S [--write] [--tag] [--json]`: the next version of one service;
 * `--write` puts it into `<service>/package.json` (and bun.lock), `--tag` creates the annotated
 * tag `<service>-vX.Y.Z` on HEAD. With nothing to release it says so, changes nothing, exits 0.
 */
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
    ...jsonArg,
  },
  options: (values) => ({
    service: values.service,
    write: values.write,
    tag: values.tag,
    json: values.json,
  }),
  async run(options, io) {
    const { formatVersionReport, runVersion } = await import("../../release/report");
    const report = await runVersion({ ...options, cwd: process.cwd() });
    io.stdout(`${options.json ? JSON.stringify(report) : formatVersionReport(report)}\n`);
  },
});
