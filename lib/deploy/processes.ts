/**
 * Processes on this host as another process can prove them later (Linux /proc): a pid with the
 * time it started (a reused pid has another) and the boot it belongs to. The deploy lock and the
 * journal record their writer this way, so a lock or a journal is taken over only from a process
 * that is provably gone.
 */
import { readdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";

/** Who a process is, as far as another process on the same host can prove it later. */
export interface ProcessIdentity {
  pid: number;
  host: string;
  /** /proc/sys/kernel/random/boot_id: pids restart from 1 after a reboot. */
  bootId: string | null;
  /** Start time in clock ticks since boot (/proc/PID/stat field 22): a reused pid has another. */
  startTicks: number | null;
}

function readProc(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

export function bootId(): string | null {
  return readProc("/proc/sys/kernel/random/boot_id")?.trim() || null;
}

/** Field 22 of /proc/PID/stat, after the command name (which may itself hold spaces and parens). */
export function startTicks(pid: number): number | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return null;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? ticks : null;
}

export function thisProcess(): ProcessIdentity {
  return { pid: process.pid, host: hostname(), bootId: bootId(), startTicks: startTicks(process.pid) };
}

/**
 * Pids of other processes on this host whose command line holds `args` in a row (Linux /proc;
 * none elsewhere). A deploy killed with SIGKILL leaves its children running: the next command
 * finds them this way and lets them finish before it repairs what they were doing.
 */
export function processesWithArgs(args: readonly string[]): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = readProc(`/proc/${entry}/cmdline`)?.split("\0") ?? [];
    const at = argv.findIndex((_arg, i) => args.every((want, j) => argv[i + j] === want));
    if (at >= 0 && args.length > 0) pids.push(Number(entry));
  }
  return pids;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * True only when the process is provably not running any more: on this host and boot, and either
 * no process has its pid or the one that has it started at another time. Anything unknown (another
 * host, no /proc, a record without a start time while the pid runs) is not proof.
 */
export function provablyGone(who: Partial<ProcessIdentity>): boolean {
  if (typeof who.pid !== "number" || who.host !== hostname()) return false;
  const boot = bootId();
  if (who.bootId && boot && who.bootId !== boot) return true;
  if (!pidAlive(who.pid)) return true;
  if (typeof who.startTicks !== "number") return false;
  const now = startTicks(who.pid);
  return now !== null && now !== who.startTicks;
}
