/**
 * Deploy state on disk, per Compose project: an append-only history (JSON Lines) and a lock file.
 *
 *   <state dir>/<project>/history.jsonl   one HistoryEntry per line, oldest first
 *   <state dir>/<project>/deploy.lock     {pid, host, command, since} while a deploy runs
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { appendFile, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { DeployError, ExitCode } from "./errors";
import type { ServiceName } from "./params";
import type { ServiceState } from "./plan";

export const PROJECT_ROOT = resolve(import.meta.dir, "../..");

export function stateDirFor(flag: string | undefined, project: string): string {
  const base = flag || Bun.env.TIMEKIT_STATE_DIR || join(PROJECT_ROOT, ".state");
  return join(resolve(base), project);
}

export type Action = "up" | "rollback" | "down";
/** ok: everything passed; rolled-back: a service failed its gate and was restored (exit 3). */
export type Result = "ok" | "rolled-back" | "restore-failed" | "failed";

export interface HistoryEntry {
  time: string;
  action: Action;
  result: Result;
  /** What each service runs after this action (what `rollback` and auto-restore go back to). */
  versions: Record<ServiceName, string>;
  params: Record<ServiceName, { replicas: number; env: Record<string, string> }>;
  images: Record<ServiceName, string>;
  digests: Record<ServiceName, string | null>;
  /** service2's published port on 127.0.0.1. */
  port: number;
  /** Services this action changed. */
  changed: ServiceName[];
  durationMs: number;
  message?: string;
}

export function entryFromState(
  action: Action,
  result: Result,
  state: Record<ServiceName, ServiceState>,
  changed: ServiceName[],
  port: number,
  startedAt: number,
  message?: string,
): HistoryEntry {
  const pick = <T>(f: (s: ServiceState) => T) => ({ service1: f(state.service1), service2: f(state.service2) });
  return {
    time: new Date().toISOString(),
    action,
    result,
    versions: pick((s) => s.version),
    params: pick((s) => ({ replicas: s.replicas, env: s.env })),
    images: pick((s) => s.image),
    digests: pick((s) => s.digest),
    port,
    changed,
    durationMs: Math.round(performance.now() - startedAt),
    ...(message ? { message } : {}),
  };
}

export function stateFromEntry(entry: HistoryEntry, service: ServiceName): ServiceState {
  return {
    version: entry.versions[service],
    image: entry.images[service],
    digest: entry.digests[service],
    replicas: entry.params[service].replicas,
    env: entry.params[service].env,
  };
}

export class History {
  readonly file: string;
  constructor(readonly dir: string) {
    this.file = join(dir, "history.jsonl");
  }

  async append(entry: HistoryEntry): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    await appendFile(this.file, `${JSON.stringify(entry)}\n`);
  }

  /** Newest first. A torn last line (a crash mid-write) is skipped, not fatal. */
  async read(): Promise<HistoryEntry[]> {
    if (!existsSync(this.file)) return [];
    const lines = (await readFile(this.file, "utf8")).split("\n").filter((l) => l.trim() !== "");
    const entries: HistoryEntry[] = [];
    for (const line of lines) {
      try {
        entries.push(JSON.parse(line) as HistoryEntry);
      } catch {
        // ignore a partial line; history stays readable
      }
    }
    return entries.reverse();
  }

  /** The newest state in which `service` passed its gate (after a deploy, a restore or a rollback). */
  async lastGood(service: ServiceName, skip = 0): Promise<ServiceState | null> {
    let seen = 0;
    for (const entry of await this.read()) {
      if (entry.action === "down") continue;
      if (entry.result !== "ok" && entry.result !== "rolled-back") continue;
      if (seen++ < skip) continue;
      return stateFromEntry(entry, service);
    }
    return null;
  }
}

interface LockInfo {
  pid: number;
  host: string;
  command: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A lock file created with O_EXCL. Released on exit, Ctrl-C and SIGTERM; a lock left by a process
 * that no longer runs on this host is taken over with a note; `--force_unlock` takes any lock.
 */
export class DeployLock {
  readonly file: string;
  private held = false;
  private readonly release = () => this.unlock();

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, "deploy.lock");
  }

  private read(): LockInfo | null {
    try {
      return JSON.parse(readFileSync(this.file, "utf8")) as LockInfo;
    } catch {
      return null;
    }
  }

  private tryCreate(command: string): boolean {
    try {
      const fd = openSync(this.file, "wx");
      const info: LockInfo = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
      writeSync(fd, JSON.stringify(info));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw error;
    }
  }

  async acquire(
    command: string,
    opts: { waitMs: number; force: boolean; note: (line: string) => void },
  ): Promise<void> {
    const deadline = performance.now() + opts.waitMs;
    let announced = false;
    for (;;) {
      if (this.tryCreate(command)) break;
      const holder = this.read();
      const stale = holder !== null && holder.host === hostname() && !alive(holder.pid);
      if (opts.force || stale || holder === null) {
        opts.note(
          holder
            ? `taking over the deploy lock of pid ${holder.pid} (${holder.command}, since ${holder.since})${stale ? ": that process is gone" : ""}`
            : "removing an unreadable deploy lock",
        );
        rmSync(this.file, { force: true });
        continue;
      }
      if (performance.now() >= deadline) {
        throw new DeployError(
          `another deploy holds the lock: pid ${holder.pid} on ${holder.host} running "${holder.command}" since ${holder.since}`,
          ExitCode.failed,
          `wait for it (or pass --lock_wait=2m); if that process is gone, pass --force_unlock (lock file ${this.file})`,
        );
      }
      if (!announced) {
        opts.note(`waiting for the deploy lock held by pid ${holder.pid} (${holder.command})`);
        announced = true;
      }
      await Bun.sleep(Math.min(250, Math.max(0, deadline - performance.now())));
    }
    this.held = true;
    process.once("exit", this.release);
  }

  unlock(): void {
    if (!this.held) return;
    const holder = this.read();
    if (holder?.pid === process.pid) rmSync(this.file, { force: true });
    this.held = false;
    process.off("exit", this.release);
  }
}
