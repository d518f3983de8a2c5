import { defineCommand } from "citty";
import { upArgs } from "../args";
import { contextFrom } from "../context";
import { type FlagValues, flagString } from "../flags";
import { buildPlan, describePlan } from "../plan";

export default defineCommand({
  meta: {
    name: "up",
    description: "Deploy both services (the default command); exits 0 once both pass the health gate",
  },
  args: upArgs,
  async run({ data }) {
    const args = data as FlagValues;
    const plan = buildPlan(args);
    const ctx = contextFrom(args);
    if (plan.target !== "compose") {
      const { kubeDryRun, kubeUp } = await import("../targets/kube");
      if (args.dry_run) return kubeDryRun(plan, ctx.json);
      return kubeUp(plan, ctx, {
        action: "up",
        lockWait: flagString(args, "lock_wait"),
        forceUnlock: args.force_unlock === true,
      });
    }
    if (args.dry_run) {
      process.stdout.write(
        ctx.json ? `${JSON.stringify({ dryRun: true, plan }, null, 2)}\n` : `${describePlan(plan)}\n`,
      );
      return;
    }
    const { apply } = await import("../apply");
    await apply(plan, ctx, {
      lockWait: flagString(args, "lock_wait"),
      forceUnlock: args.force_unlock === true,
      action: "up",
    });
  },
});
