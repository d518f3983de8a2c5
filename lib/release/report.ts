/**
 * What `deploy.ts version` reports: a service's next version from the conventional commits that
 * touched it since its last release tag, and what `--write` and `--tag` did about it.
 */
import type { ServiceName } from "../services";
import { repositoryRoot } from "./git";
import { createReleaseTag, planRelease, type ReleasePlan, writeServiceVersion } from "./version";

/** What `--json` prints: stable field names other tools (the release workflow) read. */
export interface VersionReport {
  service: string;
  commit: string;
  current: string;
  lastTag: string | null;
  release: boolean;
  bump: string | null;
  next: string | null;
  tag: string | null;
  written: string[];
  tagged: boolean;
  commits: Array<{ hash: string; header: string; bump: string | null }>;
}

export function versionReport(plan: ReleasePlan, written: string[], tagged: boolean): VersionReport {
  return {
    service: plan.service,
    commit: plan.commit,
    current: plan.current,
    lastTag: plan.lastTag,
    release: plan.next !== null,
    bump: plan.next?.bump ?? null,
    next: plan.next?.version ?? null,
    tag: plan.tag,
    written,
    tagged,
    commits: plan.commits.map(({ hash, header, bump }) => ({ hash, header, bump })),
  };
}

export function formatVersionReport(report: VersionReport): string {
  const since = report.lastTag ? `since ${report.lastTag}` : "in its history (no release tag yet)";
  const counted = report.commits.filter((c) => c.bump !== null);
  const lines = report.release
    ? [
        `${report.service}: ${report.current} -> ${report.next} (${report.bump}; ${counted.length} releasable commit(s) ${since})`,
        ...counted.map((c) => `  ${c.hash.slice(0, 12)} ${c.bump?.padEnd(5)} ${c.header}`),
      ]
    : [`${report.service}: no release; ${report.current} stays (no fix, feat or breaking commit ${since})`];
  for (const file of report.written) lines.push(`wrote ${report.next} to ${file}`);
  if (report.tagged) lines.push(`tagged ${report.commit.slice(0, 12)} as ${report.tag}`);
  return lines.join("\n");
}

export interface VersionOptions {
  service: ServiceName;
  write: boolean;
  tag: boolean;
  cwd: string;
}

/** Plans the next version, then tags (first: it is the step that can be refused) and writes it. */
export async function runVersion(options: VersionOptions): Promise<VersionReport> {
  const { service } = options;
  const root = await repositoryRoot(options.cwd);
  const plan = await planRelease(root, service);
  const tagged = options.tag && plan.next !== null;
  if (tagged) await createReleaseTag(root, plan);
  const written = options.write && plan.next ? await writeServiceVersion(root, service, plan.next.version) : [];
  return versionReport(plan, written, tagged);
}
