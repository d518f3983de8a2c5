/**
 * The Kubernetes targets' one rollout step (both services at once), in the phases the journal
 * announces: start (apply the rendered objects), health (`kubectl rollout status` of both),
 * probe (each new pod's real route by `kubectl exec <pod> -- service --probe=PATH`), verify (a
 * request through service2: port-forward for kubectl, `helm test` for helm). Recovering puts the
 * platform's revisions from before the step back, except after an interrupt once everything
 * passed, when the check is run again and the step kept.
 */
import type { Phase, StepRecord } from "../deploy/journal";
import { errorText, GateFailed } from "../errors";
import type { Restored, Rollout, RolloutPhase } from "./target";

export interface K8sSteps<Snapshot> {
  snapshot(): Promise<Snapshot>;
  apply(): Promise<void>;
  waitForRollouts(): Promise<void>;
  probePods(): Promise<void>;
  verifyChain(): Promise<void>;
  /** Back to `before` (then the whole gate); returns what was done. */
  restoreTo(before: Snapshot): Promise<string>;
}

const asGate = (error: unknown) => (error instanceof GateFailed ? error : new GateFailed(errorText(error)));

export class K8sRollout<Snapshot> implements Rollout {
  constructor(
    readonly record: StepRecord,
    private readonly steps: K8sSteps<Snapshot>,
    /** False when resumed from a journal: only recovery is possible then. */
    private readonly canApply: boolean,
  ) {}

  async prepare(): Promise<void> {
    this.record.detail = { before: await this.steps.snapshot() };
  }

  get phases(): RolloutPhase[] {
    if (!this.canApply) return [];
    const gated = (f: () => Promise<void>) => () => f().catch((error: unknown) => Promise.reject(asGate(error)));
    return [
      { phase: "start", name: "apply both services", run: gated(() => this.steps.apply()) },
      { phase: "health", name: "wait for both rollouts", run: gated(() => this.steps.waitForRollouts()) },
      { phase: "probe", name: "probe each new pod", run: gated(() => this.steps.probePods()) },
      {
        phase: "verify",
        name: "verify requests through service2 reach service1",
        run: gated(() => this.steps.verifyChain()),
      },
    ];
  }

  private states(which: "previous" | "target") {
    const states: Restored["states"] = {};
    for (const service of this.record.services) {
      const prev = this.record.previous[service] ?? null;
      const target = this.record.target[service];
      if (which === "target" && target) states[service] = target;
      else if (which === "previous") states[service] = prev ?? (target ? { ...target, replicas: 0 } : undefined);
    }
    return states;
  }

  async recover(at: Phase, cause: "failed" | "interrupted"): Promise<Restored> {
    try {
      if (at === "verify" && cause === "interrupted") {
        try {
          await this.steps.verifyChain();
          return {
            ok: true,
            finished: true,
            message: "both services passed their checks",
            states: this.states("target"),
          };
        } catch {
          // fall through to the restore
        }
      }
      const before = this.record.detail?.before as Snapshot | undefined;
      const message = before === undefined ? "nothing had changed" : await this.steps.restoreTo(before);
      return { ok: true, message, states: this.states("previous") };
    } catch (error) {
      return { ok: false, message: errorText(error), states: {} };
    }
  }
}
