/** `deploy.ts history [--json] [--limit=N]`: what ran, newest first. */
import type { ArgsDef } from "citty";
import { openTarget } from "../../targets";
import { defineCommand } from "../command";
import { commonArgs, contextFor, jsonArg, targetArgs, targetedOptions } from "../flags";
import { integer } from "../values";

const args = {
  limit: { type: "string", description: "Show at most this many entries", valueHint: "n" },
  ...targetArgs,
  ...jsonArg,
  ...commonArgs,
} as const satisfies ArgsDef;

export default defineCommand({
  name: "history",
  description: "List past deploys, newest first",
  args,
  options: (values, io) =>
    targetedOptions(values, io, (problems) => ({
      json: values.json,
      limit:
        integer("limit", values.limit, { min: 1, max: 1_000_000 }, "use a whole number from 1", problems) ??
        Number.POSITIVE_INFINITY,
    })),
  async run(options, io) {
    const ctx = contextFor(options.common, io);
    const { history } = await import("../../deploy/actions/status");
    await history(await openTarget(options.target, ctx), ctx, options);
  },
});
