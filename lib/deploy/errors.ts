/**
 * Exit codes are part of the public contract (../../../shared/contract.md, "deploy.ts"):
 * scripts branch on them, so every failure path maps to exactly one of these.
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
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure: printed as one `deploy: ...` line (plus an optional fix), never a stack trace. */
export class DeployError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.failed,
    /** What the user can do about it, printed on its own line. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = "DeployError";
  }
}

/** A bad flag or value: exit 2, raised before any external command runs. */
export class UsageError extends DeployError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.usage, hint);
    this.name = "UsageError";
  }
}

/** Several validation problems reported together, so users fix them in one go. */
export class UsageErrors extends UsageError {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? (problems[0] ?? "") : `${problems.length} problems:\n  - ${problems.join("\n  - ")}`);
  }
}
