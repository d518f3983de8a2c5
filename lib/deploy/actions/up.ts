/**
 * `up` (and the second half of `rollback`) over any target. Order: preflight (tools, render,
 * engine or cluster; exit 1, nothing changed) → lock → every image resolved (exit 1, nothing
 * running touched) → per rollout step: apply, gate, and on a failed gate restore that step only
 * (exit 3; exit 4 if the restore fails too) → history.
 */
import { DeployError, ExitCode, errorText, GateFailed } from "../../errors";
import { perService, type ServiceName } from "../../services";
import type { Target, TargetContext } from "../../targets/target";
import { type Action, entryFromState, History, type HistoryEntry, type LastGood, type Result } from "../history";
import { withLock } from "../lock";
import { type Plan, type ServiceState, stateOf } from "../plan";

export interface LockOptions {
  waitMs: number;
  force: boolean;
}

export interface UpRequest {
  plan: Plan;
  action: Action;
  lock: LockOptions;
  /** No result line on stdout (a caller such as `integrate` prints its own). */
  silent?: boolean;
}

/** What each service runs before the deploy: its last good state, or the plan's for one that never ran. */
function startingPoint(previous: LastGood, plan: Plan): Record<ServiceName, ServiceState> {
  return perService((service) => previous.states[service] ?? stateOf(plan.services[service]));
}

export function lockName(action: string, target: Target): string {
  return `${action} ${target.kind} (pid ${process.pid})`;
}

/** Deploys the plan; returns what runs afterwards. */
export async function up(
  target: Target,
  ctx: TargetContext,
  request: UpRequest,
): Promise<Record<ServiceName, ServiceState>> {
  const started = performance.now();
  const { plan, action } = request;
  await target.preflight(plan);
  const history = new History(target.stateDir);
  const lock = { ...request.lock, note: (line: string) => ctx.progress.note(line) };
  return withLock(target.stateDir, lockName(action, target), lock, async () => {
    const previous = await history.lastGood();
    const requested = perService((service) => plan.services[service].version);
    const record = (
      result: Result,
      state: Record<ServiceName, ServiceState>,
      changed: ServiceName[],
      message?: string,
    ) =>
      history.append({
        ...entryFromState(action, result, state, changed, plan.port, started, message),
        requested,
        ...target.historyFields,
      } as HistoryEntry);

    let resolved: Plan;
    try {
      resolved = await target.resolveImages(plan);
    } catch (error) {
      await record("failed", startingPoint(previous, plan), [], errorText(error));
      throw error;
    }

    const running = startingPoint(previous, resolved);
    const changed: ServiceName[] = [];
    for (const step of await target.steps(resolved, previous)) {
      changed.push(...step);
      const rollout = target.rollout(resolved, step, { ...running }, previous);
      try {
        await rollout.apply();
        await rollout.verify();
      } catch (error) {
        if (!(error instanceof GateFailed)) throw error;
        const label = step.map((service) => `${service} ${resolved.services[service].version}`).join(" and ");
        ctx.progress.warn(`${label} failed its health gate: ${error.message}`);
        if (error.diagnostics) ctx.io.stderr(`${error.diagnostics}\n`);
        const restored = await rollout.restore();
        Object.assign(running, restored.states);
        const message = `${label} failed its gate (${error.message}); ${restored.ok ? "restored" : "restore failed"}: ${restored.message}`;
        await record(restored.ok ? "rolled-back" : "restore-failed", running, changed, message);
        throw new DeployError(message, restored.ok ? ExitCode.rolledBack : ExitCode.restoreFailed);
      }
      await rollout.finish();
      for (const service of step) running[service] = stateOf(resolved.services[service]);
    }
    await record("ok", running, changed);
    if (!request.silent) {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      ctx.io.stdout(`deployed ${await target.summary(running)} in ${seconds}s\n`);
    }
    return running;
  });
}
