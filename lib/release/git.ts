/** The one way release code talks to git: argv only (no shell), in a given repository. */

export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`git ${args.join(" ")} failed (exit ${exitCode}): ${stderr.trim() || "no output"}`);
    this.name = "GitError";
  }
}

export interface GitResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs git and returns its result whatever the exit code. */
export async function gitResult(repoDir: string, args: readonly string[]): Promise<GitResult> {
  const child = Bun.spawn(["git", ...args], {
    cwd: repoDir,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    // Never stop to ask for credentials or an editor: this runs unattended in CI.
    env: { ...Bun.env, GIT_TERMINAL_PROMPT: "0", GIT_EDITOR: "true", LC_ALL: "C" },
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, stdout, stderr };
}

/** Runs git and returns stdout; throws GitError on a non-zero exit. */
export async function git(repoDir: string, args: readonly string[]): Promise<string> {
  const result = await gitResult(repoDir, args);
  if (result.exitCode !== 0) throw new GitError(args, result.exitCode, result.stderr);
  return result.stdout;
}

export async function repositoryRoot(dir: string): Promise<string> {
  return (await git(dir, ["rev-parse", "--show-toplevel"])).trim();
}

/** True when `rev` names a commit present in the local repository. */
export async function commitExists(repoDir: string, rev: string): Promise<boolean> {
  // A leading dash would turn the revision into an option of `git cat-file`.
  if (!rev || rev.startsWith("-")) return false;
  const result = await gitResult(repoDir, ["cat-file", "-e", `${rev}^{commit}`]);
  return result.exitCode === 0;
}
