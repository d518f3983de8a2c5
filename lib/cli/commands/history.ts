/** `deploy.ts history [--json] [--limit=N]`: what ran, newest first. */
import type { ArgsDef } from "citty";
import { openTarget, type TargetSettings } from "../../targets";
import { defineCommand } from "../command";
import { type Common, check, commonArgs, commonFrom, contextFor, jsonArg, targetArgs, targetFrom } from "../flags";
import { integer, type Problems } from "../values";

const args = {
  limit: { type: "string", description: "Show at most this many entries", valueHint: "n" },
  ...targetArgs,
  ...jsonArg,
  ...commonArgs,
} as const satisfies ArgsDef;

export interface HistoryOptions {
  common: Common;
  target: TargetSettings;
  json: boolean;
  limit: number;
}

export default defineCommand({
  name: "history",
  description: "List past deploys, newest first",
  args,
  options(values, io): HistoryOptions {
    const problems: Problems = [];
    const options = {
      target: targetFrom(values, io, problems),
      common: commonFrom(values, io, problems),
      json: values.json,
      limit:
        integer("limit", values.limit, { min: 1, max: 1_000_000 }, "use a whole number from 1", problems) ??
        Number.POSITIVE_INFINITY,
    };
    check(problems);
    return options;
  },
  async run(options, io) {
    const ctx = contextFor(options.common, io);
    const { history } = await import("../../deploy/actions/status");
    await history(await openTarget(options.target, ctx), ctx, options);
  },
});
