/**
 * The one way the delivery code runs another program (docker, compose, kubectl, helm, git, skopeo,
 * actionlint, shellcheck, npm, bun): an argv in, a typed result out. No shell in between: nothing
 * is quoted or interpolated, and a child given an explicit environment sees exactly that (through
 * bash, Debian's bash sources ~/.bashrc for a child on a socket without SHLVL, which zx's `$` hit).
 *
 *   const result = await run(["docker", "image", "inspect", ref], { timeoutMs: 30_000 });
 *   const out = await runChecked(["kubectl", "apply", "-f", file], { what: "kubectl apply" });
 *
 * `run` never throws for a program's own failure (check `exitCode`; a missing program is 127);
 * `runChecked` throws CommandFailed. `env` is the child's whole environment: callers hand it
 * over explicitly, so what a program sees is decided where it is called.
 */
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

async function readLines(
  stream: ReadableStream<Uint8Array>,
  name: "stdout" | "stderr",
  onLine?: RunOptions["onLine"],
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  let rest = "";
  for await (const chunk of stream) {
    const piece = decoder.decode(chunk, { stream: true });
    text += piece;
    if (!onLine) continue;
    const parts = (rest + piece).split("\n");
    rest = parts.pop() ?? "";
    for (const part of parts) if (part.trim()) onLine(part, name);
  }
  text += decoder.decode();
  if (onLine && rest.trim()) onLine(rest, name);
  return text;
}

export async function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (argv.length === 0) throw new Error("run: empty command");
  const started = performance.now();
  const result = (exitCode: number | null, stdout: string, stderr: string, timedOut: boolean): RunResult => ({
    argv,
    exitCode,
    stdout,
    stderr,
    durationMs: Math.round(performance.now() - started),
    timedOut,
  });
  let child: Bun.Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  try {
    child = Bun.spawn([...argv], {
      stdin: options.input === undefined ? "ignore" : "pipe",
      stdout: "pipe",
      stderr: "pipe",
      // Read at call time: Bun.spawn's own default is the environment the process started with.
      env: { ...(options.env ?? process.env) },
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
  } catch (error) {
    // Not found or not executable: what a shell would report as 127.
    return result(127, "", `${argv[0]}: ${(error as Error).message}\n`, false);
  }
  if (options.input !== undefined && child.stdin && typeof child.stdin !== "number") {
    child.stdin.write(options.input);
    child.stdin.end();
  }
  let timedOut = false;
  const kill = () => child.kill("SIGTERM");
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
    const [stdout, stderr, exitCode] = await Promise.all([
      readLines(child.stdout, "stdout", options.onLine),
      readLines(child.stderr, "stderr", options.onLine),
      child.exited,
    ]);
    return result(child.signalCode ? null : exitCode, stdout, stderr, timedOut);
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
