/**
 * The one way the delivery code runs another program (docker, compose, kubectl, helm, git, skopeo,
 * actionlint, shellcheck, npm, bun): an argv in, a typed result out.
 *
 *   const result = await run(["docker", "image", "inspect", ref], { timeoutMs: 30_000 });
 *   const out = await runChecked(["kubectl", "apply", "-f", file], { what: "kubectl apply" });
 *
 * zx starts the program: it quotes every argument, and its bash only `exec`s the program, so
 * nothing is interpolated and signals reach the program itself. `SHLVL` is always set, because
 * Debian's bash sources ~/.bashrc when its stdin is a socket and SHLVL is unset.
 *
 * `run` never throws for a program's own failure (check `exitCode`; a missing program is 127);
 * `runChecked` throws CommandFailed. `env` is the child's whole environment: callers hand it
 * over explicitly, so what a program sees is decided where it is called.
 */
import { $, type ProcessPromise, quote } from "zx";
import { CommandFailed } from "./errors";

export interface RunOptions {
  /** The child's whole environment; default this process's, as it is at the call. */
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** Kill the program (SIGTERM) after this long; the result then has `timedOut: true`. */
  timeoutMs?: number;
  /** Written to the program's stdin. */
  input?: string;
  /** Each non-empty line of output as it arrives. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Aborting kills the program. */
  signal?: AbortSignal;
}

export interface RunResult {
  argv: readonly string[];
  /** null when the program was killed (timeout, signal). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

/**
 * While a deploy guards against Ctrl-C (lib/deploy/interrupt.ts), children start in their own
 * process group: a Ctrl-C at the terminal then reaches only the CLI, which lets a running Compose
 * command finish and undoes the step itself. Otherwise children share the terminal's group, so
 * Ctrl-C stops a build or a push at once.
 */
let ownProcessGroups = false;
export function childrenInOwnProcessGroup(on: boolean): void {
  ownProcessGroups = on;
}

/** Found once on this process's PATH, so a child's own (perhaps minimal) PATH need not hold bash. */
const BASH = Bun.which("bash") ?? "/bin/bash";

function forwardLines(
  child: ProcessPromise,
  name: "stdout" | "stderr",
  onLine: NonNullable<RunOptions["onLine"]>,
): () => void {
  const decoder = new TextDecoder();
  let rest = "";
  child[name].on("data", (chunk: Uint8Array) => {
    const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = parts.pop() ?? "";
    for (const part of parts) if (part.trim()) onLine(part, name);
  });
  return () => {
    if (rest.trim()) onLine(rest, name);
  };
}

export async function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error("run: empty command");
  const started = performance.now();
  const env = { SHLVL: "1", ...(options.env ?? process.env) } as NodeJS.ProcessEnv;
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  const child = $({
    shell: BASH,
    quote,
    prefix: "exec ",
    postfix: "",
    env,
    quiet: true,
    verbose: false,
    nothrow: true,
    detached: ownProcessGroups,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
  })`${program} ${args}`;
  const flushers = options.onLine
    ? [forwardLines(child, "stdout", options.onLine), forwardLines(child, "stderr", options.onLine)]
    : [];
  let timedOut = false;
  const kill = () => {
    child.kill("SIGTERM").catch(() => undefined);
  };
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          kill();
        }, options.timeoutMs);
  options.signal?.addEventListener("abort", kill, { once: true });
  if (options.signal?.aborted) kill();
  try {
    const output = await child;
    for (const flush of flushers) flush();
    // Neither an exit code nor a signal: the program never started (a missing cwd, say).
    const neverStarted = !output.signal && (output.exitCode === null || output.exitCode < 0);
    return {
      argv,
      exitCode: neverStarted ? 127 : output.signal ? null : output.exitCode,
      stdout: output.stdout,
      stderr: neverStarted ? `${program}: ${output.message.split("\n")[0]}\n` : output.stderr,
      durationMs: Math.round(performance.now() - started),
      timedOut,
    };
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener("abort", kill);
  }
}

/** `run`, and a CommandFailed (exit 1, with the last lines of output) unless the program exits 0. */
export async function runChecked(
  argv: readonly string[],
  options: RunOptions & { what?: string; fix?: string } = {},
): Promise<RunResult> {
  const result = await run(argv, options);
  if (result.exitCode !== 0) throw new CommandFailed(argv, result, options.what, options.fix);
  return result;
}
