/**
 * What an image says about where it came from (OCI labels and GET /version): version, revision,
 * creation time and source URL, derived from the checkout unless given. The creation time
 * defaults to the commit's, not the clock's, so rebuilding an unchanged tree is a cache hit and
 * gives the same image id (the reproducible-builds SOURCE_DATE_EPOCH convention).
 */
import { run } from "../exec";

export interface SourceMetadata {
  commit: string;
  created: string;
  sourceUrl: string;
}

async function git(root: string, args: string[]): Promise<string | null> {
  const out = await run(["git", "-C", root, ...args], { timeoutMs: 30_000 });
  return out.exitCode === 0 ? out.stdout.trimEnd() : null;
}

/** What `version --write` changes: a workspace's package.json and bun.lock, `"version"` lines only. */
const VERSION_FILES = /^(?:[^/]+\/package\.json|bun\.lock)$/;
const VERSION_LINE = /^[-+]\s*"version"\s*:\s*"[^"]*",?\s*$/;

/**
 * Whether the working tree's only changes are version numbers (`version --write`): such a tree
 * builds the commit's sources, so its images are not `-dirty`.
 */
async function onlyVersionChanges(root: string, status: string): Promise<boolean> {
  const entries = status.split("\n").filter(Boolean);
  const files = entries.map((line) => line.slice(3));
  if (entries.some((line) => line.startsWith("??")) || !files.every((file) => VERSION_FILES.test(file))) return false;
  const diff = await git(root, ["diff", "HEAD", "--unified=0", "--no-color", "--no-ext-diff", "--", ...files]);
  if (diff === null) return false;
  const changed = diff.split("\n").filter((line) => /^[-+]/.test(line) && !/^(?:---|\+\+\+) /.test(line));
  return changed.length > 0 && changed.every((line) => VERSION_LINE.test(line));
}

/**
 * `abc123def456`, with `-dirty` when the working tree differs from the commit in anything but
 * version numbers (`version --write` leaves the sources as committed).
 */
export async function gitCommit(root: string): Promise<string> {
  const sha = await git(root, ["rev-parse", "--short=12", "HEAD"]);
  if (!sha) return "unknown";
  const status = await git(root, ["status", "--porcelain", "--untracked-files=all"]);
  if (!status || (await onlyVersionChanges(root, status))) return sha;
  return `${sha}-dirty`;
}

export async function creationTime(root: string, env = Bun.env): Promise<string> {
  if (env.BUILD_TIME) return env.BUILD_TIME;
  const epoch = env.SOURCE_DATE_EPOCH ?? (await git(root, ["log", "-1", "--format=%ct"]));
  const seconds = epoch ? Number(epoch) : Number.NaN;
  return (Number.isFinite(seconds) ? new Date(seconds * 1000) : new Date()).toISOString();
}

/** https URL of the repository: CI's own variables first, then the `origin` remote. */
export async function sourceUrl(root: string, env = Bun.env): Promise<string> {
  if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY) return `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}`;
  const remote = await git(root, ["remote", "get-url", "origin"]);
  if (!remote) return "";
  const ssh = remote.match(/^(?:ssh:\/\/)?git@([^:/]+)[:/](.+?)(?:\.git)?$/);
  if (ssh) return `https://${ssh[1]}/${ssh[2]}`;
  return remote.replace(/\.git$/, "").replace(/^(https?:\/\/)[^@/]+@/, "$1");
}

export async function sourceMetadata(root: string, env = Bun.env): Promise<SourceMetadata> {
  const [commit, created, url] = await Promise.all([
    env.BUILD_COMMIT ? Promise.resolve(env.BUILD_COMMIT) : gitCommit(root),
    creationTime(root, env),
    sourceUrl(root, env),
  ]);
  return { commit, created, sourceUrl: url };
}
