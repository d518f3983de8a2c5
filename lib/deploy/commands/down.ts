import { defineCommand } from "citty";
import { commonArgs, lockArgs } from "../args";
import { contextFrom } from "../context";
import { type FlagValues, flagString } from "../flags";

export default defineCommand({
  meta: { name: "down", description: "Stop and remove the stack's containers (history is kept)" },
  args: {
    volumes: { type: "boolean", description: "Remove the stack's volumes too" },
    ...lockArgs,
    ...commonArgs,
  },
  async run({ data }) {
    const args = data as FlagValues;
    const ctx = contextFrom(args);
    const { down } = await import("../apply");
    await down(ctx, {
      volumes: args.volumes === true,
      lockWait: flagString(args, "lock_wait"),
      forceUnlock: args.force_unlock === true,
    });
  },
});
