/** `deploy.ts status [--json]`: what runs, per service. */
import type { ArgsDef } from "citty";
import { openTarget, type TargetSettings } from "../../targets";
import { defineCommand } from "../command";
import { type Common, check, commonArgs, commonFrom, contextFor, jsonArg, targetArgs, targetFrom } from "../flags";
import type { Problems } from "../values";

const args = { ...targetArgs, ...jsonArg, ...commonArgs } as const satisfies ArgsDef;

export interface StatusOptions {
  common: Common;
  target: TargetSettings;
  json: boolean;
}

export default defineCommand({
  name: "status",
  description: "Show what runs: version, image, digest, replicas, health and URL per service",
  args,
  options(values, io): StatusOptions {
    const problems: Problems = [];
    const options = {
      target: targetFrom(values, io, problems),
      common: commonFrom(values, io, problems),
      json: values.json,
    };
    check(problems);
    return options;
  },
  async run(options, io) {
    const ctx = contextFor(options.common, io);
    const { status } = await import("../../deploy/actions/status");
    await status(await openTarget(options.target, ctx), ctx, options.json);
  },
});
