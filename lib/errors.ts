/**
 * The one error family of the delivery code. Every expected failure is a DeployError: a message,
 * the exit code the CLI ends with (part of the public contract) and, when there is one, the fix
 * printed on its own line. Anything else reaching the CLI is a bug and is printed with its stack.
 */
export const ExitCode = {
  /** Done. */
  ok: 0,
  /** Failed, and nothing running was changed. */
  failed: 1,
  /** Usage or validation error, detected before anything was touched. */
  usage: 2,
  /** The new version failed its health gate and the previous one was restored. */
  rolledBack: 3,
  /** The new version failed and restoring the previous one failed too. */
  restoreFailed: 4,
  /** Stopped by SIGINT (128 + 2), after undoing or finishing the step in progress. */
  interrupted: 130,
  /** Stopped by SIGTERM (128 + 15), likewise. */
  terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class DeployError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.failed,
    /** What the user can do about it, one sentence. */
    readonly fix?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags or values (exit 2), every problem listed at once, raised before anything runs. */
export class UsageError extends DeployError {
  readonly problems: string[];
  constructor(problems: string | readonly string[], fix?: string) {
    const list = typeof problems === "string" ? [problems] : [...problems];
    super(
      list.length === 1 ? (list[0] ?? "") : `${list.length} problems:\n  - ${list.join("\n  - ")}`,
      ExitCode.usage,
      fix,
    );
    this.problems = list;
  }
}

/** An external program exited non-zero (or was killed); the message ends with its last output lines. */
export class CommandFailed extends DeployError {
  constructor(
    readonly argv: readonly string[],
    readonly result: { exitCode: number | null; stdout: string; stderr: string; timedOut: boolean },
    what: string = argv.slice(0, 2).join(" "),
    fix?: string,
  ) {
    const status = result.timedOut ? "timed out" : `exit ${result.exitCode ?? "signal"}`;
    super(
      `${what} failed (${status}):\n    ${lastLines(result, 8).join("\n    ") || "(no output)"}`,
      ExitCode.failed,
      fix,
    );
  }
}

/** A program the delivery code needs is not installed (or not usable); the fix says how to get it. */
export class ToolMissing extends DeployError {
  constructor(
    readonly tool: string,
    reason: string,
    fix?: string,
  ) {
    super(`${tool} is not available: ${reason}`, ExitCode.failed, fix);
  }
}

/**
 * The new version of a rollout failed (health gate, end-to-end request, or a Kubernetes apply):
 * the action restores what ran before. `diagnostics` (logs, health log) were captured before
 * anything was removed.
 */
export class GateFailed extends DeployError {
  constructor(
    message: string,
    readonly diagnostics = "",
  ) {
    super(message, ExitCode.failed);
  }
}

/** The last non-empty lines of a program's output, stderr first. */
export function lastLines(result: { stdout: string; stderr: string }, count: number): string[] {
  return `${result.stderr}\n${result.stdout}`
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "")
    .slice(-count);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
