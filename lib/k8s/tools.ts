/**
 * External commands for the Kubernetes tooling (kubectl, helm, npm), through zx with argument
 * arrays: no shell parsing, no quoting bugs. A missing tool is a ToolMissingError, so callers and
 * tests can tell "not installed here" from "ran and failed".
 */
import { $, type ProcessOutput } from "zx";

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
  input?: string;
}

/** Runs a command and returns its output; never throws for a non-zero exit. */
export async function run(command: readonly string[], options: RunOptions = {}): Promise<ProcessOutput> {
  const [bin, ...args] = command;
  if (!bin) throw new Error("run: empty command");
  const child = $({
    quiet: true,
    verbose: false,
    nothrow: true,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
  })`${bin} ${args}`;
  return await child;
}

/** Runs a command and returns stdout; throws ToolError on a non-zero exit. */
export async function runChecked(command: readonly string[], options: RunOptions = {}): Promise<string> {
  const output = await run(command, options);
  if (output.exitCode !== 0) throw new ToolError(command, output.exitCode, output.stderr);
  return output.stdout;
}

let kubectl: Promise<string> | undefined;

/** `kubectl` from KUBECTL or PATH; it renders kustomizations offline (`kubectl kustomize`). */
export function findKubectl(): Promise<string> {
  kubectl ??= locateKubectl();
  kubectl.catch(() => {
    kubectl = undefined;
  });
  return kubectl;
}

async function locateKubectl(): Promise<string> {
  const bin = Bun.env.KUBECTL || Bun.which("kubectl");
  if (bin) {
    const output = await run([bin, "version", "--client", "--output=json"], { timeoutMs: 15_000 }).catch(() => null);
    if (output?.exitCode === 0) return bin;
  }
  throw new ToolMissingError(
    "kubectl",
    "install kubectl 1.30 or newer (it carries kustomize) and put it on PATH, or set KUBECTL to its path",
  );
}
