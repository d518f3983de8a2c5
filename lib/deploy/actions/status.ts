/** `status` and `history` over any target: what runs now, and what ran. */
import type { Target, TargetContext } from "../../targets/target";
import { History, type HistoryEntry } from "../history";
import type { ServiceStatus } from "../plan";

export async function status(target: Target, ctx: TargetContext, json: boolean): Promise<void> {
  const report = await target.status(await new History(target.stateDir).lastGood());
  if (json) {
    ctx.io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  for (const [name, s] of Object.entries(report.services) as [string, ServiceStatus][]) {
    ctx.io.stdout(
      `${name}: ${s.health}  version ${s.version ?? "-"}  replicas ${s.replicas}  image ${s.image ?? "-"}  digest ${s.digest ?? "-"}  url ${s.url ?? "-"}\n`,
    );
  }
}

function table(entries: HistoryEntry[]): string {
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
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export async function history(
  target: Target,
  ctx: TargetContext,
  options: { json: boolean; limit: number },
): Promise<void> {
  const log = new History(target.stateDir);
  const entries = (await log.read()).slice(0, options.limit);
  if (options.json) {
    ctx.io.stdout(`${JSON.stringify(entries, null, 2)}\n`);
    return;
  }
  ctx.io.stdout(
    entries.length === 0
      ? `no deploys recorded for project ${ctx.project} (state in ${log.dir})\n`
      : `${table(entries)}\n`,
  );
  const platform = await target.platformHistory();
  if (platform !== null) ctx.io.stdout(`\n${platform}\n`);
}
