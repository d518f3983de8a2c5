/** `deploy.ts down`: stop and remove what runs; history is kept. */
import type { ArgsDef } from "citty";
import { openTarget } from "../../targets";
import { defineCommand } from "../command";
import { commonArgs, contextFor, lockArgs, lockFrom, targetArgs, targetedOptions } from "../flags";

const args = {
  volumes: { type: "boolean", description: "Remove the stack's volumes too" },
  ...targetArgs,
  ...lockArgs,
  ...commonArgs,
} as const satisfies ArgsDef;

export default defineCommand({
  name: "down",
  description: "Stop and remove the stack's containers, or the cluster's objects (history is kept)",
  args,
  options: (values, io) =>
    targetedOptions(values, io, (problems) => ({ volumes: values.volumes, lock: lockFrom(values, problems) })),
  async run(options, io) {
    const ctx = contextFor(options.common, io);
    const { down } = await import("../../deploy/actions/down");
    await down(await openTarget(options.target, ctx), ctx, options);
  },
});
