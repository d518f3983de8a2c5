/**
 * The deploy lock of a state directory: `deploy.lock` holding who holds it, created in one step
 * (its content is written to a temporary file, fsync'd, then hard-linked to the lock's name, so no
 * process ever sees an empty or half-written lock) and removed on release, exit, Ctrl-C and SIGTERM.
 *
 * A lock is taken over only when its holder is provably gone: same host and boot, and no process
 * with that pid and that start time (from /proc) runs. Two processes that find the same stale
 * lock race for a marker named after that lock's token (`deploy.lock.break-<token>`, also created
 * by link); only the winner removes the stale lock, after checking it is still that one, so a lock
 * just made by a third process is never removed. `force` takes any lock.
 */
import { readdirSync } from "node:fs";
import { DeployError, ExitCode } from "../errors";
import { pause } from "./interrupt";
import { type ProcessIdentity, provablyGone, thisProcess } from "./processes";
import { StateDir } from "./state-dir";

const LOCK = "deploy.lock";
const BREAK_PREFIX = `${LOCK}.break-`;

interface LockInfo extends ProcessIdentity {
  token: string;
  command: string;
  since: string;
}

function parseLock(text: string | null): LockInfo | null {
  if (text === null) return null;
  try {
    const info = JSON.parse(text) as Partial<LockInfo> | null;
    if (!info || typeof info.pid !== "number" || typeof info.host !== "string") return null;
    return {
      pid: info.pid,
      host: info.host,
      bootId: typeof info.bootId === "string" ? info.bootId : null,
      startTicks: typeof info.startTicks === "number" ? info.startTicks : null,
      token: typeof info.token === "string" ? info.token : `legacy-${info.pid}-${String(info.since)}`,
      command: String(info.command ?? "?"),
      since: String(info.since ?? "?"),
    };
  } catch {
    return null;
  }
}

export interface LockOptions {
  waitMs: number;
  force: boolean;
  note: (line: string) => void;
  /** Stops the wait (Ctrl-C while another deploy holds the lock). */
  signal?: AbortSignal;
  /** How long to pause between tries, at most (a random part of it, so waiters spread out); default 250 ms. */
  pollMs?: number;
}

export class DeployLock {
  readonly file: string;
  private readonly state: StateDir;
  private token: string | null = null;
  private readonly release = () => this.unlock();

  constructor(dir: string | StateDir) {
    this.state = typeof dir === "string" ? new StateDir(dir) : dir;
    this.file = this.state.file(LOCK);
  }

  /** The holder, or null when no lock exists; "unreadable" for a file that is not a lock we wrote. */
  holder(): LockInfo | "unreadable" | null {
    const text = this.state.read(LOCK);
    if (text === null) return null;
    return parseLock(text) ?? "unreadable";
  }

  private tryCreate(command: string): boolean {
    const token = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const info: LockInfo = { ...thisProcess(), token, command, since: new Date().toISOString() };
    if (!this.state.createExclusive(LOCK, JSON.stringify(info))) return false;
    this.token = token;
    return true;
  }

  /**
   * Removes the lock only if it still carries `token`, and only if this process wins the race to
   * break that token. True when the lock with that token is gone (by us or earlier).
   */
  private breakStale(token: string): boolean {
    const marker = `${BREAK_PREFIX}${token.replace(/[^A-Za-z0-9._-]/g, "_")}`;
    if (!this.state.createExclusive(marker, JSON.stringify(thisProcess()))) return false;
    try {
      const now = this.holder();
      if (now !== null && now !== "unreadable" && now.token === token) this.state.remove(LOCK);
      return true;
    } finally {
      this.state.remove(marker);
    }
  }

  /** Removes the lock whatever it holds, and every break marker (--force_unlock). */
  private forceRemove(): void {
    this.state.remove(LOCK);
    for (const name of readdirSync(this.state.path)) if (name.startsWith(BREAK_PREFIX)) this.state.remove(name);
  }

  async acquire(command: string, opts: LockOptions): Promise<void> {
    this.state.ensure();
    const deadline = performance.now() + opts.waitMs;
    let announced = false;
    for (;;) {
      if (this.tryCreate(command)) break;
      const holder = this.holder();
      if (holder === null) continue;
      if (opts.force) {
        opts.note(
          holder === "unreadable"
            ? `removing an unreadable deploy lock (${this.file})`
            : `taking over the deploy lock of pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.since}): --force_unlock`,
        );
        this.forceRemove();
        continue;
      }
      if (holder !== "unreadable" && provablyGone(holder)) {
        if (this.breakStale(holder.token)) {
          opts.note(
            `taking over the deploy lock of pid ${holder.pid} (${holder.command}, since ${holder.since}): that process is gone`,
          );
        }
        continue;
      }
      if (performance.now() >= deadline) {
        throw new DeployError(
          holder === "unreadable"
            ? `the deploy lock ${this.file} is not a lock this CLI wrote, so it cannot tell whether a deploy runs`
            : `another deploy holds the lock: pid ${holder.pid} on ${holder.host} running "${holder.command}" since ${holder.since}`,
          ExitCode.failed,
          `wait for it (or pass --lock_wait=2m); if that process is gone, pass --force_unlock (lock file ${this.file})`,
        );
      }
      if (!announced) {
        opts.note(
          holder === "unreadable"
            ? `waiting for the unreadable deploy lock ${this.file}`
            : `waiting for the deploy lock held by pid ${holder.pid} (${holder.command})`,
        );
        announced = true;
      }
      const poll = opts.pollMs ?? 250;
      await pause(Math.min(poll * (0.4 + Math.random() * 0.6), Math.max(0, deadline - performance.now())), opts.signal);
    }
    process.once("exit", this.release);
  }

  get held(): boolean {
    return this.token !== null;
  }

  unlock(): void {
    if (this.token === null) return;
    const holder = this.holder();
    if (holder !== null && holder !== "unreadable" && holder.token === this.token) this.state.remove(LOCK);
    this.token = null;
    process.off("exit", this.release);
  }
}

/** Runs `fn` holding the lock of `dir`. */
export async function withLock<T>(
  dir: string | StateDir,
  command: string,
  options: LockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = new DeployLock(dir);
  await lock.acquire(command, options);
  try {
    return await fn();
  } finally {
    lock.unlock();
  }
}
