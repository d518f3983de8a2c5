/**
 * A service's CHANGELOG.md, generated from its conventional commits (changelogen's layout: one
 * section per release, newest first, grouped by kind, each line `**scope:** subject (hash)`).
 * Only what changes the service's image counts: the commits that touched its release paths
 * (lib/release/services.ts) and asked for a release (feat, fix, perf, revert, breaking).
 *
 * Everything comes from git: releases are the `<service>-vX.Y.Z` tags, dates are the tagged
 * commits' dates, so generating it twice gives the same bytes.
 */
import semver from "semver";
import type { ServiceName } from "../services";
import { bumpFor, type ConventionalCommit } from "./commits";
import { git } from "./git";
import { commitsTouching, versionFromTag } from "./version";

const SECTIONS: Array<{ title: string; matches: (c: ConventionalCommit) => boolean }> = [
  { title: "⚠️ Breaking Changes", matches: (c) => c.breaking },
  { title: "🚀 Enhancements", matches: (c) => !c.breaking && c.type === "feat" },
  { title: "🩹 Fixes", matches: (c) => !c.breaking && c.type === "fix" },
  { title: "🔥 Performance", matches: (c) => !c.breaking && c.type === "perf" },
  { title: "⏪ Reverts", matches: (c) => !c.breaking && c.revert && c.type !== "fix" && c.type !== "perf" },
];

export interface ReleaseNotes {
  version: string;
  /** YYYY-MM-DD of the release commit. */
  date: string;
  commits: ConventionalCommit[];
}

function line(commit: ConventionalCommit): string {
  const scope = commit.scope ? `**${commit.scope}:** ` : "";
  return `- ${scope}${commit.subject} (\`${commit.hash.slice(0, 7)}\`)`;
}

/** One release's section: `## X.Y.Z (date)` and its groups; commits that ask for no release are left out. */
export function renderRelease(notes: ReleaseNotes): string {
  const counted = notes.commits.filter((c) => bumpFor(c) !== null);
  const parts = [`## ${notes.version} (${notes.date})`, ""];
  for (const section of SECTIONS) {
    const commits = counted.filter(section.matches);
    if (commits.length === 0) continue;
    parts.push(`### ${section.title}`, "", ...commits.map(line), "");
  }
  if (counted.length === 0) parts.push("No changes to the image.", "");
  return parts.join("\n");
}

export function renderChangelog(service: ServiceName, releases: readonly ReleaseNotes[]): string {
  const header = [
    `# Changelog: ${service}`,
    "",
    `Generated from the conventional commits that changed ${service}'s image, by \`bun deploy.ts version --service=${service} --sync\`; do not edit.`,
    "",
  ];
  return `${[...header, ...releases.map(renderRelease)].join("\n").trimEnd()}\n`;
}

async function commitDate(repoDir: string, ref: string): Promise<string> {
  return (await git(repoDir, ["log", "-1", "--format=%cs", ref])).trim();
}

/** Every release of `service` reachable from `ref`, newest first, with the commits each brought. */
export async function releaseHistory(repoDir: string, service: ServiceName, ref = "HEAD"): Promise<ReleaseNotes[]> {
  const tags = (await git(repoDir, ["tag", "--list", `${service}-v*`, "--merged", ref]))
    .split("\n")
    .filter(Boolean)
    .map((tag) => ({ tag, version: versionFromTag(service, tag) }))
    .filter((t): t is { tag: string; version: string } => t.version !== null)
    .sort((a, b) => semver.compare(a.version, b.version));
  const releases: ReleaseNotes[] = [];
  let previous: string | null = null;
  for (const { tag, version } of tags) {
    releases.push({
      version,
      date: await commitDate(repoDir, `${tag}^{commit}`),
      commits: await commitsTouching(repoDir, service, previous, `${tag}^{commit}`),
    });
    previous = `${tag}^{commit}`;
  }
  return releases.reverse();
}

/** The notes of a release not tagged yet: `version` at `ref`, the commits since the last tag. */
export async function pendingRelease(
  repoDir: string,
  service: ServiceName,
  version: string,
  lastTag: string | null,
  ref = "HEAD",
): Promise<ReleaseNotes> {
  return {
    version,
    date: await commitDate(repoDir, ref),
    commits: await commitsTouching(repoDir, service, lastTag ? `${lastTag}^{commit}` : null, ref),
  };
}
