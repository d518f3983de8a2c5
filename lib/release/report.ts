/**
 * What `deploy.ts version` reports: a service's next version from the conventional commits that
 * touched it since its last release tag, and what `--write` and `--tag` did about it.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ServiceName } from "../services";
import { pendingRelease, releaseHistory, renderChangelog, renderRelease } from "./changelog";
import { repositoryRoot } from "./git";
import { createReleaseTag, planRelease, type ReleasePlan, versionFromTag, writeServiceVersion } from "./version";

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
  /** Where `--notes` wrote the next release's notes (null without a release or without --notes). */
  notes: string | null;
  /** What `--sync` wrote: package.json (and bun.lock) at the last release, CHANGELOG.md. */
  synced: string[];
  commits: Array<{ hash: string; header: string; bump: string | null }>;
}

export function versionReport(
  plan: ReleasePlan,
  written: string[],
  tagged: boolean,
  extra: { notes?: string | null; synced?: string[] } = {},
): VersionReport {
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
    notes: extra.notes ?? null,
    synced: extra.synced ?? [],
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
  if (report.notes) lines.push(`wrote the release notes of ${report.next} to ${report.notes}`);
  if (report.synced.length > 0) lines.push(`synced ${report.synced.join(", ")} with ${report.lastTag ?? "no release"}`);
  return lines.join("\n");
}

export interface VersionOptions {
  service: ServiceName;
  write: boolean;
  tag: boolean;
  /** A file to write the next release's notes to (markdown: its CHANGELOG section). */
  notes?: string | undefined;
  /** Bring package.json (and bun.lock) and CHANGELOG.md in line with the release tags. */
  sync?: boolean;
  cwd: string;
}

/**
 * After a release: `<service>/package.json` (and bun.lock) at the last released version and
 * `<service>/CHANGELOG.md` regenerated from every release tag. Idempotent; returns what changed.
 */
export async function syncReleaseFiles(root: string, service: ServiceName, lastTag: string | null): Promise<string[]> {
  const changed: string[] = [];
  const version = lastTag ? versionFromTag(service, lastTag) : null;
  if (version) {
    const before = await Bun.file(join(root, service, "package.json")).text();
    const lock = await Bun.file(join(root, "bun.lock"))
      .text()
      .catch(() => "");
    const written = await writeServiceVersion(root, service, version);
    if ((await Bun.file(join(root, service, "package.json")).text()) !== before)
      changed.push(`${service}/package.json`);
    if (written.includes("bun.lock") && (await Bun.file(join(root, "bun.lock")).text()) !== lock)
      changed.push("bun.lock");
  }
  const file = join(root, service, "CHANGELOG.md");
  const text = renderChangelog(service, await releaseHistory(root, service));
  const current = await Bun.file(file)
    .text()
    .catch(() => null);
  if (current !== text) {
    await writeFile(file, text);
    changed.push(`${service}/CHANGELOG.md`);
  }
  return changed;
}

/** Plans the next version, then tags (first: it is the step that can be refused), writes, notes and syncs. */
export async function runVersion(options: VersionOptions): Promise<VersionReport> {
  const { service } = options;
  const root = await repositoryRoot(options.cwd);
  const plan = await planRelease(root, service);
  const tagged = options.tag && plan.next !== null;
  if (tagged) await createReleaseTag(root, plan);
  const written = options.write && plan.next ? await writeServiceVersion(root, service, plan.next.version) : [];
  let notes: string | null = null;
  if (options.notes && plan.next) {
    const pending = await pendingRelease(root, service, plan.next.version, plan.lastTag, plan.commit);
    await writeFile(options.notes, `${renderRelease(pending).trimEnd()}\n`);
    notes = options.notes;
  }
  const synced = options.sync ? await syncReleaseFiles(root, service, tagged ? plan.tag : plan.lastTag) : [];
  return versionReport(plan, written, tagged, { notes, synced });
}
