/**
 * What every deploy target (Compose, kubectl, Helm) offers the actions in lib/deploy/actions. An
 * action is written once over this interface; a driver knows only its own tools.
 *
 * A deploy goes through rollout steps: groups of services started, gated and, when the gate
 * fails, restored together (Compose: each changed service alone, so the other keeps running
 * untouched; Kubernetes: both Deployments or releases at once).
 */

import type { HistoryEntry, LastGood } from "../deploy/history";
import type { Plan, ServiceState, ServiceStatus, TargetKind } from "../deploy/plan";
import type { Progress } from "../deploy/progress";
import type { Io } from "../io";
import type { ServiceName } from "../services";

export interface TargetContext {
  project: string;
  /** The project's state directory (history and lock of the Compose target live right here). */
  stateDir: string;
  progress: Progress;
  io: Io;
}

/** One rollout step in progress. */
export interface Rollout {
  /** Starts the step's services as planned; a GateFailed here is restored like a failed gate. */
  apply(): Promise<void>;
  /** Health and end-to-end checks; throws GateFailed (with diagnostics) when the new version fails. */
  verify(): Promise<void>;
  /** After a passed gate: retire what the new version replaced. */
  finish(): Promise<void>;
  /** After a failed gate: put the step's services back as they were. Never throws. */
  restore(): Promise<Restored>;
}

export interface Restored {
  ok: boolean;
  message: string;
  /** What the step's services run now (replicas 0: removed, having no earlier good state). */
  states: Partial<Record<ServiceName, ServiceState>>;
}

export interface StatusReport {
  services: Record<ServiceName, ServiceStatus>;
  [field: string]: unknown;
}

export interface DryRun {
  /** What `--dry-run` prints. */
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
  dryRun(plan: Plan): Promise<DryRun>;
  /** Checks before the lock, in order: tools, what is rendered, the engine or cluster answering. */
  preflight(plan: Plan): Promise<void>;
  /** The plan with every image the target runs present where it can run it, pinned by content. */
  resolveImages(plan: Plan): Promise<Plan>;
  /** The rollout steps from `previous` (what ran) to `plan`; services already as planned are left out. */
  steps(plan: Plan, previous: LastGood): Promise<ServiceName[][]>;
  rollout(plan: Plan, step: ServiceName[], running: Record<ServiceName, ServiceState>, previous: LastGood): Rollout;
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
