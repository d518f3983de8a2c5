/**
 * SIGINT and SIGTERM during a deploy. The first signal does not stop the process: it marks the
 * deploy interrupted and aborts every wait (health, probes, verification), so the action undoes or
 * finishes the step in progress, records an `interrupted` history row and exits 130 (SIGINT) or
 * 143 (SIGTERM). Programs already running (a Compose command) finish first: they run in their own
 * process group, so a Ctrl-C at the terminal reaches only this process. A second signal stops at
 * once: `onAbandon` says what is left half-done and how to repair it, then the process exits.
 */
import { DeployError, ExitCode } from "../errors";
import { childrenInOwnProcessGroup } from "../exec";

export type StopSignal = "SIGINT" | "SIGTERM";

export class Interrupted extends DeployError {
  constructor(readonly stopSignal: StopSignal) {
    super(`interrupted by ${stopSignal}`, stopSignal === "SIGINT" ? ExitCode.interrupted : ExitCode.terminated);
  }
}

export class InterruptGuard {
  private received: StopSignal | null = null;
  private readonly controller = new AbortController();
  private readonly handlers: Record<StopSignal, () => void>;
  private installed = false;
  /** Guards installed now: while any is, the CLI's default "exit on Ctrl-C" stands aside. */
  private static installedCount = 0;
  static get active(): boolean {
    return InterruptGuard.installedCount > 0;
  }
  /** Called on the second signal; must be synchronous and must not return (it exits). */
  onAbandon: ((signal: StopSignal) => void) | null = null;

  constructor() {
    this.handlers = { SIGINT: () => this.receive("SIGINT"), SIGTERM: () => this.receive("SIGTERM") };
  }

  /** Aborted at the first signal: long waits watch it. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopSignal(): StopSignal | null {
    return this.received;
  }

  /** Marks the deploy interrupted as a signal would (tests, and a caller that must stop). */
  receive(signal: StopSignal): void {
    if (this.received === null) {
      this.received = signal;
      this.controller.abort(new Interrupted(signal));
      return;
    }
    if (this.onAbandon) this.onAbandon(signal);
    process.exit(signal === "SIGINT" ? ExitCode.interrupted : ExitCode.terminated);
  }

  /** Throws Interrupted once a signal came: called between the parts of a step. */
  checkpoint(): void {
    if (this.received !== null) throw new Interrupted(this.received);
  }

  install(): void {
    if (this.installed) return;
    process.on("SIGINT", this.handlers.SIGINT);
    process.on("SIGTERM", this.handlers.SIGTERM);
    childrenInOwnProcessGroup(true);
    this.installed = true;
    InterruptGuard.installedCount++;
  }

  uninstall(): void {
    if (!this.installed) return;
    process.off("SIGINT", this.handlers.SIGINT);
    process.off("SIGTERM", this.handlers.SIGTERM);
    this.installed = false;
    InterruptGuard.installedCount--;
    if (InterruptGuard.installedCount === 0) childrenInOwnProcessGroup(false);
  }
}

/** Resolves after `ms`, or throws Interrupted as soon as `signal` aborts. */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return Bun.sleep(ms);
  if (signal.aborted) throw signal.reason;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The waits of a poll: `first` ms, then half as long again each time, never over `cap`. A gate
 * that waits for seconds asks the engine often at first (most waits end early) and then less,
 * so its own queries do not take the CPU the containers it waits for need.
 */
export function backoff(first: number, cap: number): () => number {
  let next = first;
  return () => {
    const now = next;
    next = Math.min(cap, Math.round(next * 1.5));
    return now;
  };
}
