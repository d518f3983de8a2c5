/** The one way release code talks to git: through the runner, in a given repository, never prompting. */
import { runChecked, run as runProgram } from "../exec";

/** Never stop to ask for credentials or an editor: this runs unattended in CI. */
function gitEnv(): Record<string, string | undefined> {
  return { ...Bun.env, GIT_TERMINAL_PROMPT: "0", GIT_EDITOR: "true", LC_ALL: "C" };
}

/** Runs git and returns stdout; a CommandFailed (with git's own message) on a non-zero exit. */
export async function git(repoDir: string, args: readonly string[]): Promise<string> {
  const result = await runChecked(["git", ...args], { cwd: repoDir, env: gitEnv(), what: `git ${args.join(" ")}` });
  return result.stdout;
}

export async function repositoryRoot(dir: string): Promise<string> {
  return (await git(dir, ["rev-parse", "--show-toplevel"])).trim();
}

/** True when `rev` names a commit present in the local repository. */
export async function commitExists(repoDir: string, rev: string): Promise<boolean> {
  // A leading dash would turn the revision into an option of `git cat-file`.
  if (!rev || rev.startsWith("-")) return false;
  const result = await runProgram(["git", "cat-file", "-e", `${rev}^{commit}`], { cwd: repoDir, env: gitEnv() });
  return result.exitCode === 0;
}
