import { defineCommand } from "citty";
import { commonArgs, jsonArg } from "../args";
import { contextFrom } from "../context";
import { UsageError } from "../errors";
import type { FlagValues } from "../flags";
import { parseInteger } from "../params";
import { kubeFlags, targetArgs } from "../targets/kube-args";

export default defineCommand({
  meta: { name: "history", description: "List past deploys, newest first" },
  args: {
    limit: { type: "string", description: "Show at most this many entries", valueHint: "n" },
    ...targetArgs,
    ...jsonArg,
    ...commonArgs,
  },
  async run({ data }) {
    const args = data as FlagValues;
    const ctx = contextFrom(args);
    const kube = kubeFlags(args);
    if (kube) ctx.history = (await import("../targets/kube")).kubeHistory(ctx, kube.target, kube.kube);
    let limit = Number.POSITIVE_INFINITY;
    if (args.limit !== undefined) {
      const n = parseInteger(String(args.limit), 1, 1_000_000);
      if (n === null)
        throw new UsageError(`--limit=${JSON.stringify(args.limit)} is not allowed; use a whole number from 1`);
      limit = n;
    }
    const entries = (await ctx.history.read()).slice(0, limit);
    if (ctx.json) {
      process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      return;
    }
    if (entries.length === 0) {
      process.stdout.write(`no deploys recorded for project ${ctx.project} (state in ${ctx.history.dir})\n`);
    }
    const rows = entries.map((e) => [
      e.time,
      e.action,
      e.result,
      `service1 ${e.versions.service1} x${e.params.service1.replicas}`,
      `service2 ${e.versions.service2}`,
      `${(e.durationMs / 1000).toFixed(1)}s`,
      e.message ?? "",
    ]);
    const header = ["TIME", "ACTION", "RESULT", "SERVICE1", "SERVICE2", "TOOK", "NOTE"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    for (const row of rows.length > 0 ? [header, ...rows] : []) {
      process.stdout.write(
        `${row
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join("  ")
          .trimEnd()}\n`,
      );
    }
    if (kube) {
      const { clusterHistory } = await import("../targets/kube");
      process.stdout.write(`\n${await clusterHistory(ctx, kube.target, kube.kube)}\n`);
    }
  },
});
