/**
 * What every deploy target (Compose, kubectl, Helm) offers the actions in lib/deploy/actions. An
 * action is written once over this interface; a driver knows only its own tools.
 *
 * A deploy goes through rollout steps: groups of services started, gated and, when anything
 * fails, restored together (Compose: each changed service alone, so the other keeps running
 * untouched; Kubernetes: both Deployments or releases at once). A step runs as phases (canary,
 * start, health, probe, retire, verify: lib/deploy/journal.ts); the action announces each in the
 * journal before it runs, so a step cut short (a failure, Ctrl-C, SIGKILL) can be undone or
 * finished from what the journal says, by this process or by the next one.
 */

import type { HistoryEntry, LastGood } from "../deploy/history";
import type { Phase, StepRecord } from "../deploy/journal";
import type { Plan, ServiceState, ServiceStatus, TargetKind } from "../deploy/plan";
import type { Progress } from "../deploy/progress";
import type { Io } from "../io";
import type { ServiceName } from "../services";

export interface TargetContext {
  project: string;
  /** The project's state directory (history and lock of the Compose target live right here). */
  stateDir: string;
  /** The state root the user named (--state_dir): no directory from it down may be a symlink. */
  stateRoot?: string;
  progress: Progress;
  io: Io;
}

/** What a step's phases need beyond the plan. */
export interface StepContext {
  /** What the whole stack runs outside this step (files such as Compose's override name both services). */
  running: Record<ServiceName, ServiceState>;
  /** service2's published port outside this step. */
  port: number;
  /** How long each wait may take. */
  timeoutMs: number;
  /** Aborted by an interrupt: every wait stops. Commands already running finish. */
  signal: AbortSignal;
}

export interface RolloutPhase {
  phase: Phase;
  /** The progress line; its JSON key is `<service>.<phase>`. */
  name: string;
  run(): Promise<void>;
}

/** One rollout step in progress. */
export interface Rollout {
  /** Reads what runs now (changes nothing) so `record` is complete before the first change. */
  prepare(): Promise<void>;
  /** What the journal keeps about this step (kept current by the phases). */
  readonly record: StepRecord;
  readonly phases: RolloutPhase[];
  /**
   * After a failure or an interrupt in `at`: undo the step (or, past the point of no return, finish
   * it) and report what runs. Never throws; not interruptible.
   */
  recover(at: Phase, cause: "failed" | "interrupted"): Promise<Restored>;
}

export interface Restored {
  ok: boolean;
  message: string;
  /** What the step's services run now (replicas 0: removed, having no earlier good state). */
  states: Partial<Record<ServiceName, ServiceState>>;
  /** The step went forward (finished) rather than back. */
  finished?: boolean;
}

/** One distinct version running for a service: status never blends two into one line. */
export interface RunningVersion {
  version: string | null;
  image: string | null;
  digest: string | null;
  replicas: number;
  health: string;
}

export interface StatusReport {
  services: Record<ServiceName, ServiceStatus & { running?: RunningVersion[] }>;
  [field: string]: unknown;
}

export interface DryRun {
  /** What `--dry-run` prints, the diff from what runs included. */
  text: string;
  /** What `--dry-run --json` prints beside `dryRun: true` and the plan. */
  json: Record<string, unknown>;
}

export interface Target {
  readonly kind: TargetKind;
  /** Where this target's history and deploy lock live. */
  readonly stateDir: string;
  /** Fields every history entry of this target carries (where it ran). */
  readonly historyFields: Partial<HistoryEntry>;

  /** What `up --dry-run` shows; checks what can be checked offline, changes nothing. */
  /** `diff`: what changes from what runs, as text (lib/deploy/reuse.ts describeDiff). */
  dryRun(plan: Plan, diff: string): Promise<DryRun>;
  /** Checks before the lock, in order: tools, what is rendered, the engine or cluster answering. */
  preflight(plan: Plan): Promise<void>;
  /** The plan with every image the target runs present where it can run it, pinned by content. */
  resolveImages(plan: Plan): Promise<Plan>;
  /** The rollout steps from `previous` (what ran) to `plan`; services already as planned are left out. */
  steps(plan: Plan, previous: LastGood): Promise<ServiceName[][]>;
  rollout(plan: Plan, step: ServiceName[], context: StepContext, previous: LastGood): Rollout;
  /** The rollout a journal describes (left by a process that is gone), to recover it. */
  resume(record: StepRecord, context: StepContext): Rollout;
  /** The line printed after a deploy, without the leading "deployed". */
  summary(running: Record<ServiceName, ServiceState>): Promise<string>;
  status(lastGood: LastGood): Promise<StatusReport>;
  /** What the platform itself records about past rollouts (null: nothing beyond our history). Never throws. */
  platformHistory(): Promise<string | null>;
  /** Stops and removes what runs. */
  down(options: { volumes: boolean; lastGood: LastGood }): Promise<void>;
  /**
   * Rollback with no history of ours (deployed by other means): the platform's own previous
   * revision of `services`, then the gate. Null: this target keeps no revisions of its own.
   */
  undo: ((services: readonly ServiceName[], timeoutMs: number) => Promise<void>) | null;
}
