/** `deploy.ts status [--json]`: what runs, per service. */
import type { ArgsDef } from "citty";
import { openTarget } from "../../targets";
import { defineCommand } from "../command";
import { commonArgs, contextFor, jsonArg, targetArgs, targetedOptions } from "../flags";

const args = { ...targetArgs, ...jsonArg, ...commonArgs } as const satisfies ArgsDef;

export default defineCommand({
  name: "status",
  description: "Show what runs: version, image, digest, replicas, health and URL per service",
  args,
  options: (values, io) => targetedOptions(values, io, () => ({ json: values.json })),
  async run(options, io) {
    const ctx = contextFor(options.common, io);
    const { status } = await import("../../deploy/actions/status");
    await status(await openTarget(options.target, ctx), ctx, options.json);
  },
});
