/**
 * The deploy journal: one file (`journal.json` in the state directory) that says, before each
 * change to the stack, what is about to change and what ran before it; written in one step and
 * fsync'd (StateDir.write), removed once the action has recorded its outcome in history.
 *
 * A deploy killed with SIGKILL leaves it behind: the next command that takes the lock reads it,
 * undoes or finishes the half-done step (the target knows how, from what is recorded here), writes
 * an `interrupted` history row and carries on; `status` reports it. A journal whose writer still
 * runs is a deploy in progress, not something to repair.
 */
import type { ServiceName } from "../services";
import type { Action } from "./history";
import type { ServiceState } from "./plan";
import { type ProcessIdentity, provablyGone, thisProcess } from "./processes";
import { StateDir } from "./state-dir";

const FILE = "journal.json";

/**
 * The parts of a service rollout, in order. canary: a throwaway container of the new version,
 * off the network's service name and unpublished, probed directly; start: the new containers
 * (beside the old for a service1 with replicas running, otherwise in place of them); health:
 * their health checks; probe: each new container's real route; retire: the old containers
 * stopped and removed; edge: the edge in front of service2 (Compose) started or replaced, and
 * healthy; verify: requests through service2's published port; restore: the previous
 * state put back after a failure.
 */
export const PHASES = ["canary", "start", "health", "probe", "retire", "edge", "verify", "restore"] as const;
export type Phase = (typeof PHASES)[number];

export interface StepRecord {
  /** The services this step changes (Compose: one; Kubernetes: both). */
  services: ServiceName[];
  phase: Phase;
  /** What each of them ran before the step (null: it was not running). */
  previous: Partial<Record<ServiceName, ServiceState | null>>;
  /** What the step is putting in place. */
  target: Partial<Record<ServiceName, ServiceState>>;
  /** service2's published port before and after the step. */
  port: { previous: number; target: number };
  /** Ids of the containers that ran before the step (what a surge leaves running and retire removes). */
  oldContainers: string[];
  /** The canary container's name while one runs. */
  canary: string | null;
  /** Target-specific detail (e.g. Kubernetes revisions before the step). */
  detail?: Record<string, unknown>;
}

export interface JournalRecord {
  format: 1;
  owner: ProcessIdentity;
  action: Action;
  startedAt: string;
  /** What each service runs outside the current step (whole stack, for the override file). */
  running: Record<ServiceName, ServiceState>;
  /** service2's port outside the current step. */
  port: number;
  step: StepRecord | null;
}

export class Journal {
  private readonly state: StateDir;

  constructor(dir: string | StateDir) {
    this.state = typeof dir === "string" ? new StateDir(dir) : dir;
  }

  get file(): string {
    return this.state.file(FILE);
  }

  /** The journal on disk; null when none (or one this CLI cannot read, which is reported). */
  read(): JournalRecord | null | { unreadable: string } {
    const text = this.state.read(FILE);
    if (text === null) return null;
    try {
      const record = JSON.parse(text) as JournalRecord;
      if (record?.format !== 1 || typeof record.owner?.pid !== "number" || !record.running) {
        return { unreadable: `${this.file} is not a journal this CLI wrote` };
      }
      return record;
    } catch (error) {
      return { unreadable: `${this.file}: ${(error as Error).message}` };
    }
  }

  /** Writes the record (fsync'd, in one step) before the change it announces. */
  write(record: JournalRecord): void {
    this.state.write(FILE, `${JSON.stringify(record, null, 2)}\n`);
  }

  clear(): void {
    this.state.remove(FILE);
  }

  static begin(
    action: Action,
    running: Record<ServiceName, ServiceState>,
    port: number,
  ): Omit<JournalRecord, "step"> & { step: null } {
    return { format: 1, owner: thisProcess(), action, startedAt: new Date().toISOString(), running, port, step: null };
  }
}

/** A journal left by a process that is gone: the half-done step to repair. */
export function abandoned(record: JournalRecord): boolean {
  return provablyGone(record.owner);
}

/** One line for `status` and notes: what the journal says was happening. */
export function describeStep(record: JournalRecord): string {
  const step = record.step;
  const who = `pid ${record.owner.pid} (${record.action}, started ${record.startedAt})`;
  if (!step) return `${who} was between steps`;
  const what = step.services
    .map((s) => {
      const from = step.previous[s];
      const to = step.target[s];
      return `${s} ${from ? `${from.version} x${from.replicas}` : "(not running)"} -> ${to ? `${to.version} x${to.replicas}` : "?"}`;
    })
    .join(", ");
  return `${who} was at "${step.phase}" of ${what}`;
}
