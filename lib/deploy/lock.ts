/**
 * The deploy lock of a state directory: a file created with O_EXCL holding {pid, host, command,
 * since} while a deploy runs. Released on exit, Ctrl-C and SIGTERM; a lock left by a process that
 * no longer runs on this host is taken over with a note; `force` takes any lock.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { DeployError, ExitCode } from "../errors";

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

/** Runs `fn` holding the lock of `dir`. */
export async function withLock<T>(
  dir: string,
  command: string,
  options: { waitMs: number; force: boolean; note: (line: string) => void },
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
