/** `deploy.ts down`: stop and remove what runs; history is kept. */
import type { ArgsDef } from "citty";
import type { LockOptions } from "../../deploy/actions/up";
import { openTarget, type TargetSettings } from "../../targets";
import { defineCommand } from "../command";
import {
  type Common,
  check,
  commonArgs,
  commonFrom,
  contextFor,
  lockArgs,
  lockFrom,
  targetArgs,
  targetFrom,
} from "../flags";
import type { Problems } from "../values";

const args = {
  volumes: { type: "boolean", description: "Remove the stack's volumes too" },
  ...targetArgs,
  ...lockArgs,
  ...commonArgs,
} as const satisfies ArgsDef;

export interface DownOptions {
  common: Common;
  target: TargetSettings;
  volumes: boolean;
  lock: LockOptions;
}

export default defineCommand({
  name: "down",
  description: "Stop and remove the stack's containers, or the cluster's objects (history is kept)",
  args,
  options(values, io): DownOptions {
    const problems: Problems = [];
    const options = {
      target: targetFrom(values, io, problems),
      common: commonFrom(values, io, problems),
      volumes: values.volumes,
      lock: lockFrom(values, problems),
    };
    check(problems);
    return options;
  },
  async run(options, io) {
    const ctx = contextFor(options.common, io);
    const { down } = await import("../../deploy/actions/down");
    await down(await openTarget(options.target, ctx), ctx, options);
  },
});
