/** `status` and `history` over any target: what runs now, and what ran. */
import type { RunningVersion, Target, TargetContext } from "../../targets/target";
import { History, type HistoryEntry } from "../history";
import { abandoned, describeStep, Journal } from "../journal";
import type { ServiceStatus } from "../plan";
import { StateDir } from "../state-dir";

/** What the journal says about a deploy in progress or one that was killed half-way; null: nothing. */
function journalNote(target: Target, ctx: TargetContext): Record<string, string> | null {
  const journal = new Journal(new StateDir(target.stateDir, ctx.stateRoot));
  const record = journal.read();
  if (record === null) return null;
  if ("unreadable" in record) return { interrupted: record.unreadable, file: journal.file };
  if (!abandoned(record)) return { inProgress: describeStep(record), file: journal.file };
  return {
    interrupted: describeStep(record),
    file: journal.file,
    fix: "the next `bun deploy.ts up`, `rollback` or `down` repairs it first",
  };
}

export async function status(target: Target, ctx: TargetContext, json: boolean): Promise<void> {
  const history = new History(new StateDir(target.stateDir, ctx.stateRoot), (line) => ctx.progress.warn(line));
  const report = await target.status(await history.lastGood());
  const journal = journalNote(target, ctx);
  if (journal) report.journal = journal;
  if (json) {
    ctx.io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  for (const [name, s] of Object.entries(report.services) as [
    string,
    ServiceStatus & { running?: RunningVersion[]; reach?: string | null },
  ][]) {
    ctx.io.stdout(
      `${name}: ${s.health}  version ${s.version ?? "-"}  replicas ${s.replicas}  image ${s.image ?? "-"}  digest ${s.digest ?? "-"}  url ${s.url ?? "-"}\n`,
    );
    if (s.reach) ctx.io.stdout(`  reach: ${s.reach}\n`);
    if ((s.running?.length ?? 0) > 1) {
      for (const r of s.running ?? []) {
        ctx.io.stdout(
          `  ${r.replicas} x ${r.version ?? "?"} (${r.health})  image ${r.image ?? "-"}  digest ${r.digest ?? "-"}\n`,
        );
      }
    }
  }
  const edge = report.edge as ServiceStatus | null | undefined;
  if (edge) {
    ctx.io.stdout(
      `edge: ${edge.health}  version ${edge.version ?? "-"}  image ${edge.image ?? "-"}  digest ${edge.digest ?? "-"}  url ${edge.url ?? "-"}\n`,
    );
  }
  if (journal?.interrupted) ctx.io.stdout(`interrupted deploy: ${journal.interrupted}; ${journal.fix ?? ""}\n`);
  if (journal?.inProgress) ctx.io.stdout(`deploy in progress: ${journal.inProgress}\n`);
}

function table(entries: HistoryEntry[]): string {
  const rows = entries.map((e) => [
    e.time,
    e.action,
    e.result,
    `service1 ${e.versions.service1} x${e.params.service1.replicas}`,
    `service2 ${e.versions.service2} x${e.params.service2.replicas}${e.params.service2.edge ? " +edge" : ""}`,
    `${(e.durationMs / 1000).toFixed(1)}s`,
    e.left ? `${e.message ?? ""} [left: ${e.left}]` : (e.message ?? ""),
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
  const log = new History(new StateDir(target.stateDir, ctx.stateRoot), (line) => ctx.progress.warn(line));
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
