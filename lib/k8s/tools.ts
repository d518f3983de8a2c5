/**
 * External commands for the Kubernetes tooling (kubectl, helm, npm, tar), spawned directly with
 * argument arrays: no shell in between, so no quoting bugs and no dependency on one being on PATH.
 * A missing tool is a ToolMissingError, so callers and tests can tell "not installed here" from
 * "ran and failed".
 */

/** A tool is not installed and could not be installed; `hint` says how to get it. */
export class ToolMissingError extends Error {
  constructor(
    readonly tool: string,
    readonly hint: string,
  ) {
    super(`${tool} is not available: ${hint}`);
    this.name = "ToolMissingError";
  }
}

/** A tool ran and exited non-zero; the message carries its stderr. */
export class ToolError extends Error {
  constructor(
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`\`${command.join(" ")}\` failed (exit ${exitCode ?? "signal"}): ${stderr.trim() || "(no output)"}`);
    this.name = "ToolError";
  }
}

export interface RunOptions {
  cwd?: string;
  timeoutMs?: number;
}

export interface RunResult {
  /** null when the process was killed (e.g. by the timeout). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command and returns its output; never throws for a non-zero exit or a missing binary. */
export async function run(command: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (command.length === 0) throw new Error("run: empty command");
  let child: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    child = Bun.spawn([...command], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    });
  } catch (error) {
    return { exitCode: 127, stdout: "", stderr: (error as Error).message };
  }
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode: child.signalCode ? null : exitCode, stdout, stderr };
}

/** Runs a command and returns stdout; throws ToolError on a non-zero exit. */
export async function runChecked(command: readonly string[], options: RunOptions = {}): Promise<string> {
  const output = await run(command, options);
  if (output.exitCode !== 0) throw new ToolError(command, output.exitCode, output.stderr);
  return output.stdout;
}
