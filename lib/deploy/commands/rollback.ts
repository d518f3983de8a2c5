import { defineCommand } from "citty";
import { commonArgs, gateArgs, jsonArg, lockArgs } from "../args";
import { contextFrom } from "../context";
import { type FlagValues, flagString } from "../flags";

export default defineCommand({
  meta: {
    name: "rollback",
    description: "Put a service (default: both) back at its previous good version and settings, or at --to",
  },
  args: {
    service: { type: "string", description: "service1 or service2 (default: both)", valueHint: "service" },
    to: {
      type: "string",
      description: "A version recorded in history (default: the one before the current)",
      valueHint: "version",
    },
    ...gateArgs,
    ...jsonArg,
    ...lockArgs,
    ...commonArgs,
  },
  async run({ data }) {
    const args = data as FlagValues;
    const ctx = contextFrom(args);
    const { rollback } = await import("../apply");
    await rollback(ctx, {
      service: flagString(args, "service"),
      to: flagString(args, "to"),
      healthTimeout: flagString(args, "health_timeout"),
      lockWait: flagString(args, "lock_wait"),
      forceUnlock: args.force_unlock === true,
    });
  },
});
