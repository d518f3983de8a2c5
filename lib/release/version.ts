/**
 * Per-service semantic versions from conventional commits.
 *
 * A service's released versions are its annotated tags `<service>-vX.Y.Z`. Its next version is
 * the last such tag reachable from the release commit, bumped by the strongest conventional
 * commit that touched the service's release paths since that tag. With no tag yet, the version
 * in `<service>/package.json` at the release commit is the starting point.
 *
 * Everything is read from git objects, never from the working tree: `--write` changes the
 * working tree's package.json, and asking again afterwards must give the same answer.
 *
 * Before 1.0.0 a breaking change bumps the minor version (0.3.1 → 0.4.0), as npm's caret ranges
 * and semver §4 treat 0.x minors as breaking; leaving 0.x is a deliberate act (tag
 * `<service>-v1.0.0` by hand). A pre-release starting version follows `semver.inc`
 * (1.2.0-rc.1 + patch → 1.2.0). Only stable `X.Y.Z` tags count as releases.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import semver from "semver";
import type { ServiceName } from "../services";
import { type Bump, bumpFor, type ConventionalCommit, parseCommitMessage, strongestBump } from "./commits";
import { git } from "./git";
import { gitPathspecs } from "./services";

export interface NextVersion {
  bump: Bump;
  version: string;
}

/** The version after `current` given the commits since it, or null when none warrants a release. */
export function nextVersion(current: string, commits: readonly ConventionalCommit[]): NextVersion | null {
  if (!semver.valid(current)) throw new Error(`not a semantic version: ${JSON.stringify(current)}`);
  const wanted = strongestBump(commits.map(bumpFor));
  if (!wanted) return null;
  const bump: Bump = wanted === "major" && semver.major(current) === 0 ? "minor" : wanted;
  const version = semver.inc(current, bump);
  if (!version) throw new Error(`cannot apply a ${bump} bump to ${current}`);
  return { bump, version };
}

export function releaseTagName(service: ServiceName, version: string): string {
  return `${service}-v${version}`;
}

/** The version a release tag names, or null when `tag` is not a stable release tag of `service`. */
export function versionFromTag(service: ServiceName, tag: string): string | null {
  const prefix = `${service}-v`;
  if (!tag.startsWith(prefix)) return null;
  const version = tag.slice(prefix.length);
  return /^\d+\.\d+\.\d+$/.test(version) && semver.valid(version) ? version : null;
}

/** The highest release tag of `service` among `tags`, or null. */
export function latestReleaseTag(service: ServiceName, tags: readonly string[]): string | null {
  let best: { tag: string; version: string } | null = null;
  for (const tag of tags) {
    const version = versionFromTag(service, tag);
    if (version && (!best || semver.gt(version, best.version))) best = { tag, version };
  }
  return best?.tag ?? null;
}

// ---- reading git ------------------------------------------------------------------------------

const FIELD = "\x1f";
const RECORD = "\x1e";

/** Release tags of `service` reachable from `ref`: tags on other branches are not our history. */
export async function lastReleaseTag(repoDir: string, service: ServiceName, ref = "HEAD"): Promise<string | null> {
  const out = await git(repoDir, ["tag", "--list", `${service}-v*`, "--merged", ref]);
  return latestReleaseTag(service, out.split("\n").filter(Boolean));
}

/** Conventional commits in `ref` and not in `since`, touching the service's release paths, newest first. */
export async function commitsTouching(
  repoDir: string,
  service: ServiceName,
  since: string | null,
  ref = "HEAD",
): Promise<ConventionalCommit[]> {
  const range = since ? `${since}..${ref}` : ref;
  const out = await git(repoDir, [
    "log",
    // A merge brings commits that are walked themselves; its own subject carries no change type.
    "--no-merges",
    `--format=%H${FIELD}%B${RECORD}`,
    range,
    "--",
    ...gitPathspecs(service, "release"),
  ]);
  return out
    .split(RECORD)
    .map((record) => record.replace(/^\n/, ""))
    .filter((record) => record.includes(FIELD))
    .map((record) => {
      const [hash = "", message = ""] = record.split(FIELD);
      return parseCommitMessage(hash, message);
    });
}

/** The `version` field of `<service>/package.json` as committed at `ref`. */
export async function committedPackageVersion(repoDir: string, service: ServiceName, ref = "HEAD"): Promise<string> {
  const text = await git(repoDir, ["show", `${ref}:${service}/package.json`]);
  const version: unknown = JSON.parse(text).version;
  if (typeof version !== "string" || !semver.valid(version)) {
    throw new Error(`${service}/package.json at ${ref} has no valid "version" (got ${JSON.stringify(version)})`);
  }
  return version;
}

export interface ReleasePlan {
  service: ServiceName;
  /** The commit the release is computed for. */
  commit: string;
  /** The last release tag, or null when the service was never released. */
  lastTag: string | null;
  /** The last released version, or package.json's version when there is no tag. */
  current: string;
  /** Null when no commit since `lastTag` warrants a release. */
  next: NextVersion | null;
  /** The tag the next release gets, or null with no release. */
  tag: string | null;
  /** Every commit since `lastTag` that touched the service, newest first, with the bump it asks for. */
  commits: Array<ConventionalCommit & { bump: Bump | null }>;
}

export async function planRelease(repoDir: string, service: ServiceName, ref = "HEAD"): Promise<ReleasePlan> {
  if (ref.startsWith("-")) throw new Error(`not a git revision: ${JSON.stringify(ref)}`);
  const commit = (await git(repoDir, ["rev-parse", "--verify", `${ref}^{commit}`])).trim();
  const lastTag = await lastReleaseTag(repoDir, service, commit);
  const current = lastTag
    ? (versionFromTag(service, lastTag) as string)
    : await committedPackageVersion(repoDir, service, commit);
  const commits = await commitsTouching(repoDir, service, lastTag, commit);
  const next = nextVersion(current, commits);
  return {
    service,
    commit,
    lastTag,
    current,
    next,
    tag: next ? releaseTagName(service, next.version) : null,
    commits: commits.map((c) => ({ ...c, bump: bumpFor(c) })),
  };
}

// ---- writing ----------------------------------------------------------------------------------

/**
 * Sets `"version"` in a package.json text, keeping every other byte as it was; falls back to
 * re-serialising only if the targeted edit would change anything but the version.
 */
export function withPackageVersion(packageJson: string, version: string): string {
  const original = JSON.parse(packageJson);
  const edited = packageJson.replace(/^(\s*"version"\s*:\s*)"[^"]*"/m, (_, prefix: string) => `${prefix}"${version}"`);
  if (Bun.deepEquals(JSON.parse(edited), { ...original, version })) return edited;
  return `${JSON.stringify({ ...original, version }, null, 2)}\n`;
}

/**
 * Sets the version bun.lock records for a workspace package, so a later `bun install` finds
 * nothing to rewrite. Returns the text unchanged when the workspace is not listed.
 */
export function withLockfileWorkspaceVersion(lockfile: string, workspace: string, version: string): string {
  const escaped = workspace.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const entry = new RegExp(`("${escaped}"\\s*:\\s*\\{\\s*"name"\\s*:\\s*"[^"]*"\\s*,\\s*"version"\\s*:\\s*)"[^"]*"`);
  return lockfile.replace(entry, (_, prefix: string) => `${prefix}"${version}"`);
}

/** Writes `version` into `<service>/package.json` and the matching bun.lock entry, if any. */
export async function writeServiceVersion(repoDir: string, service: ServiceName, version: string): Promise<string[]> {
  if (!semver.valid(version)) throw new Error(`not a semantic version: ${JSON.stringify(version)}`);
  const written: string[] = [];
  const manifest = join(repoDir, service, "package.json");
  await writeFile(manifest, withPackageVersion(await readFile(manifest, "utf8"), version));
  written.push(`${service}/package.json`);
  const lockPath = join(repoDir, "bun.lock");
  const lockfile = await Bun.file(lockPath)
    .text()
    .catch(() => null);
  if (lockfile !== null) {
    const updated = withLockfileWorkspaceVersion(lockfile, service, version);
    if (updated !== lockfile) {
      await writeFile(lockPath, updated);
      written.push("bun.lock");
    }
  }
  return written;
}

/** Creates the annotated release tag on the plan's commit; fails if the tag already exists. */
export async function createReleaseTag(repoDir: string, plan: ReleasePlan): Promise<string> {
  if (!plan.next || !plan.tag) throw new Error(`${plan.service} has nothing to release; no tag created`);
  await git(repoDir, ["tag", "--annotate", plan.tag, "--message", `${plan.service} ${plan.next.version}`, plan.commit]);
  return plan.tag;
}
