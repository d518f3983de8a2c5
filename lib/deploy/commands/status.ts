import { defineCommand } from "citty";
import { commonArgs, jsonArg } from "../args";
import { contextFrom } from "../context";
import type { FlagValues } from "../flags";
import { kubeFlags, targetArgs } from "../targets/kube-args";

export default defineCommand({
  meta: { name: "status", description: "Show what runs: version, image, digest, replicas, health and URL per service" },
  args: { ...targetArgs, ...jsonArg, ...commonArgs },
  async run({ data }) {
    const args = data as FlagValues;
    const ctx = contextFrom(args);
    const kube = kubeFlags(args);
    const report = kube
      ? await (await import("../targets/kube")).kubeStatus(ctx, kube.target, kube.kube)
      : await (await import("../apply")).status(ctx);
    if (ctx.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    for (const [name, s] of Object.entries(report.services)) {
      process.stdout.write(
        `${name}: ${s.health}  version ${s.version ?? "-"}  replicas ${s.replicas}  image ${s.image ?? "-"}  digest ${s.digest ?? "-"}  url ${s.url ?? "-"}\n`,
      );
    }
  },
});
