/**
 * Over 250 lines on purpose: the one path every deploy, restore and repair takes; its failure,
 * interrupt and repair branches share the bookkeeping (journal, history, what runs).
 *
 * `up` (and the second half of `rollback`) over any target. Order: preflight (tools, render,
 * engine or cluster; exit 1, nothing changed) → lock → repair of a step a killed deploy left half
 * done (journal) → every image resolved (exit 1, nothing running touched) → the journal written
 * (a state dir that cannot be written stops here, exit 1) → per rollout step, per phase: the
 * journal announces it, then it runs. Any failure restores that step (exit 3; exit 4 if the
 * restore fails too); SIGINT/SIGTERM undoes or finishes it (exit 130/143). Every outcome is one
 * history row; the journal is removed once that row is written.
 */
import { DeployError, ExitCode, errorText, GateFailed } from "../../errors";
import { perService, type ServiceName } from "../../services";
import { effectiveSettings } from "../../settings";
import type { Restored, Rollout, StepContext, Target, TargetContext } from "../../targets/target";
import { type Action, entryFromState, History, type HistoryEntry, type LastGood, type Result } from "../history";
import { Interrupted, InterruptGuard } from "../interrupt";
import { abandoned, describeStep, Journal, type JournalRecord, type Phase } from "../journal";
import { withLock } from "../lock";
import { type Plan, type ServiceState, stateOf } from "../plan";
import { StateDir, StateWriteError } from "../state-dir";

export interface LockOptions {
  waitMs: number;
  force: boolean;
}

export interface UpRequest {
  plan: Plan;
  action: Action;
  lock: LockOptions;
  /** The deploy file the plan came from; its path goes into every history row of this run. */
  file?: string;
  /** No result line on stdout (a caller such as `integrate` prints its own). */
  silent?: boolean;
  /** The caller's signal guard (tests); by default up installs its own for the run. */
  interrupt?: InterruptGuard;
}

/** What each service runs before the deploy: its last good state, or the plan's for one that never ran. */
function startingPoint(previous: LastGood, plan: Plan): Record<ServiceName, ServiceState> {
  return perService((service) => previous.states[service] ?? stateOf(plan.services[service]));
}

export function lockName(action: string, target: Target): string {
  return `${action} ${target.kind} (pid ${process.pid})`;
}

/** The files of a target's state directory, opened once per command. */
export function stateFiles(target: Target, ctx: TargetContext) {
  const state = new StateDir(target.stateDir, ctx.stateRoot);
  return {
    state,
    history: new History(state, (line) => ctx.progress.warn(line)),
    journal: new Journal(state),
  };
}

/** What a deploy with nothing to do prints: what runs, as the record names it. */
export async function sayNothingToChange(
  target: Target,
  ctx: TargetContext,
  running: Record<ServiceName, ServiceState>,
): Promise<void> {
  ctx.io.stdout(`nothing to change: ${await target.summary(running)} runs as recorded\n`);
}

/** Records one history row; `settings` holds every setting the services run with, defaults included. */
function row(
  target: Target,
  action: Action,
  result: Result,
  running: Record<ServiceName, ServiceState>,
  changed: ServiceName[],
  port: number,
  started: number,
  extra: Partial<HistoryEntry> & { message?: string | undefined } = {},
): HistoryEntry {
  const { message, ...rest } = extra;
  return {
    ...entryFromState(action, result, running, changed, port, started, message),
    settings: perService((s) => effectiveSettings(s, running[s].env)),
    ...rest,
    ...target.historyFields,
  } as HistoryEntry;
}

/**
 * A journal left by a deploy that was killed: recover its half-done step (undo it, or finish it
 * past the point of no return), record an `interrupted` row, remove the journal. Nothing when
 * there is no journal. Throws when the step cannot be repaired (exit 4).
 */
export async function repairLeftovers(target: Target, ctx: TargetContext, timeoutMs: number): Promise<void> {
  const { history, journal } = stateFiles(target, ctx);
  const record = journal.read();
  if (record === null) return;
  if ("unreadable" in record) {
    throw new DeployError(
      `cannot tell what a killed deploy left: ${record.unreadable}`,
      ExitCode.failed,
      `check \`bun deploy.ts status\`, then remove ${journal.file} and run the command again`,
    );
  }
  if (!abandoned(record)) {
    throw new DeployError(
      `the deploy journal says ${describeStep(record)}, and that process still runs`,
      ExitCode.failed,
      "wait for it to finish; --force_unlock does not stop it",
    );
  }
  const started = performance.now();
  ctx.progress.warn(
    `a deploy stopped half-way (killed, or stopped twice): ${describeStep(record)}; repairing it first`,
  );
  let running = record.running;
  let restored: Restored = { ok: true, message: "it was between steps; nothing was half done", states: {} };
  if (record.step) {
    const context: StepContext = {
      running: record.running,
      port: record.port,
      timeoutMs,
      signal: new AbortController().signal,
    };
    restored = await ctx.progress.step(
      `repair: ${record.step.phase} of ${record.step.services.join(" and ")}`,
      () =>
        target
          .resume(record.step as NonNullable<JournalRecord["step"]>, context)
          .recover(record.step?.phase as Phase, "interrupted"),
      "repair",
    );
    running = { ...running, ...restored.states } as Record<ServiceName, ServiceState>;
  }
  const port = restored.finished && record.step?.services.includes("service2") ? record.step.port.target : record.port;
  const message = `pid ${record.owner.pid} stopped with "${record.step?.phase ?? "a step"}" half done; pid ${process.pid} repaired it: ${restored.message}`;
  await history.append(
    row(
      target,
      record.action,
      "interrupted",
      running,
      restored.finished ? (record.step?.services ?? []) : [],
      port,
      started,
      {
        message,
        ...(restored.ok ? {} : { left: `repair failed: ${restored.message}` }),
      },
    ),
  );
  if (!restored.ok) {
    throw new DeployError(`could not repair what a killed deploy left: ${restored.message}`, ExitCode.restoreFailed);
  }
  journal.clear();
  ctx.progress.note(`repaired: ${restored.message}`);
}

/** Deploys the plan; returns what runs afterwards. */
export async function up(
  target: Target,
  ctx: TargetContext,
  request: UpRequest,
): Promise<Record<ServiceName, ServiceState>> {
  const started = performance.now();
  const { plan, action } = request;
  const guard = request.interrupt ?? new InterruptGuard();
  const ownGuard = request.interrupt === undefined;
  if (ownGuard) guard.install();
  try {
    await target.preflight(plan);
    const { state, history, journal } = stateFiles(target, ctx);
    const lock = { ...request.lock, note: (line: string) => ctx.progress.note(line), signal: guard.signal };
    return await withLock(state, lockName(action, target), lock, () =>
      deploy(target, ctx, request, { history, journal, guard, started }),
    );
  } finally {
    if (ownGuard) guard.uninstall();
  }
}

interface Books {
  history: History;
  journal: Journal;
  guard: InterruptGuard;
  started: number;
}

async function deploy(
  target: Target,
  ctx: TargetContext,
  request: UpRequest,
  { history, journal, guard, started }: Books,
): Promise<Record<ServiceName, ServiceState>> {
  const { plan, action } = request;
  await repairLeftovers(target, ctx, plan.gate.timeoutMs);
  const previous = await history.lastGood();
  const requested = perService((service) => plan.services[service].version);
  let port = previous.port ?? plan.port;
  const changed: ServiceName[] = [];
  const record = (result: Result, running: Record<ServiceName, ServiceState>, message?: string, left?: string) =>
    history.append(
      row(target, action, result, running, changed, port, started, {
        message,
        requested,
        ...(request.file ? { file: request.file } : {}),
        ...(left ? { left } : {}),
      }),
    );

  let resolved: Plan;
  try {
    resolved = await Promise.race([target.resolveImages(plan), rejectOnAbort(guard.signal)]);
  } catch (error) {
    const running = startingPoint(previous, plan);
    if (error instanceof Interrupted) {
      await record("interrupted", running, "interrupted while resolving images; nothing was changed");
      throw error;
    }
    await record("failed", running, errorText(error));
    throw error;
  }

  const running = startingPoint(previous, resolved);
  const steps = await target.steps(resolved, previous);
  if (steps.length === 0 && action === "up" && port === plan.port) {
    // The versions asked for resolved to what runs, as recorded: no step, no history row.
    if (!request.silent) await sayNothingToChange(target, ctx, running);
    return running;
  }
  const base = () => ({ ...Journal.begin(action, { ...running }, port) });
  // The first state write: a directory that cannot be written stops the deploy before any change.
  journal.write(base());
  const done: Rollout[] = [];
  for (const step of steps) {
    const label = step.map((service) => `${service} ${resolved.services[service].version}`).join(" and ");
    const context: StepContext = {
      running: { ...running },
      port,
      timeoutMs: plan.gate.timeoutMs,
      signal: guard.signal,
    };
    const rollout = target.rollout(resolved, step, context, previous);
    let at: Phase | null = null;
    try {
      await rollout.prepare();
      for (const phase of rollout.phases) {
        guard.checkpoint();
        // The phase counts as reached once the journal says so: a write that fails (a full disk)
        // is undone as the phase before it.
        journal.write({ ...base(), step: { ...rollout.record, phase: phase.phase } });
        at = phase.phase;
        guard.onAbandon = (signal) => abandon(ctx, journal, history, target, action, running, port, started, signal);
        await ctx.progress.step(phase.name, phase.run, `${step.join("+")}.${phase.phase}`);
      }
      guard.checkpoint();
    } catch (error) {
      const interrupted = guard.stopSignal !== null;
      const recovering = at ?? "canary";
      if (interrupted) {
        ctx.progress.warn(`${guard.stopSignal} received during "${recovering}" of ${label}: undoing that step`);
      } else {
        ctx.progress.warn(
          `${label} ${error instanceof GateFailed ? "failed its gate" : "failed"} at "${recovering}": ${errorText(error)}`,
        );
        if (error instanceof GateFailed && error.diagnostics) ctx.io.stderr(`${error.diagnostics}\n`);
      }
      tryWrite(() => journal.write({ ...base(), step: { ...rollout.record, phase: recovering } }));
      const restored = await ctx.progress.step(
        `${label}: ${interrupted ? "undo or finish" : "restore"} after "${recovering}"`,
        () => rollout.recover(recovering, interrupted ? "interrupted" : "failed"),
        `${step.join("+")}.restore`,
      );
      Object.assign(running, restored.states);
      if (restored.finished) {
        changed.push(...step);
        if (step.includes("service2")) port = plan.port;
      }
      let outcome = `${restored.ok ? (restored.finished ? "finished" : "restored") : "restore failed"}: ${restored.message}`;
      let ok = restored.ok;
      const nothingChanged = changed.length === 0;
      if (!interrupted && error instanceof StateWriteError && done.length > 0) {
        // History cannot be written, so it keeps naming what ran before: make that true again.
        const back = await restoreSteps(done, running);
        ok &&= back.ok;
        outcome += `; ${back.message}`;
        changed.length = 0;
        port = previous.port ?? port;
      }
      const left = ok
        ? undefined
        : `${label} half done at "${recovering}"; run \`bun deploy.ts up\` again or \`bun deploy.ts rollback\``;
      if (interrupted) {
        const message = `interrupted by ${guard.stopSignal} during "${recovering}" of ${label}; ${outcome}`;
        await safeRecord(ctx, () => record("interrupted", running, message, left));
        if (ok) tryWrite(() => journal.clear());
        throw new DeployError(message, guard.stopSignal === "SIGINT" ? ExitCode.interrupted : ExitCode.terminated);
      }
      if (ok && nothingChanged && recovering === "canary" && !(error instanceof GateFailed)) {
        // Nothing that serves was touched: the command failed, as before any step.
        await safeRecord(ctx, () => record("failed", running, errorText(error)));
        tryWrite(() => journal.clear());
        throw error;
      }
      const what = error instanceof GateFailed ? "failed its gate" : `failed at "${recovering}"`;
      const message = `${label} ${what} (${errorText(error)}); ${outcome}`;
      await safeRecord(ctx, () => record(ok ? "rolled-back" : "restore-failed", running, message, left));
      if (ok) tryWrite(() => journal.clear());
      throw new DeployError(
        message,
        ok ? ExitCode.rolledBack : ExitCode.restoreFailed,
        error instanceof DeployError ? error.fix : undefined,
      );
    }
    for (const service of step) running[service] = stateOf(resolved.services[service]);
    if (step.includes("service2")) port = plan.port;
    changed.push(...step);
    done.push(rollout);
    tryWrite(() => journal.write(base()));
  }
  try {
    await record("ok", running);
  } catch (error) {
    // History would name the old versions: put them back, so what it says is true again.
    ctx.progress.warn(`cannot record the deploy (${errorText(error)}); putting the previous versions back`);
    const back = await restoreSteps(done, running);
    throw new DeployError(
      `the deploy passed its gate but could not be recorded (${errorText(error)}); ${back.message}`,
      back.ok ? ExitCode.rolledBack : ExitCode.restoreFailed,
      error instanceof DeployError ? error.fix : undefined,
    );
  }
  tryWrite(() => journal.clear());
  if (!request.silent) {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    ctx.io.stdout(`deployed ${await target.summary(running)} in ${seconds}s\n`);
  }
  return running;
}

/** Undoes finished steps, newest first (a deploy that cannot be recorded must not stay). */
async function restoreSteps(
  done: Rollout[],
  running: Record<ServiceName, ServiceState>,
): Promise<{ ok: boolean; message: string }> {
  const messages: string[] = [];
  let ok = true;
  for (const rollout of [...done].reverse()) {
    const restored = await rollout.recover("restore", "failed");
    Object.assign(running, restored.states);
    ok &&= restored.ok;
    messages.push(restored.message);
  }
  return { ok, message: `${ok ? "restored" : "restore failed"}: ${messages.join("; ")}` };
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

function tryWrite(write: () => void): void {
  try {
    write();
  } catch {
    // The state dir is failing (a full disk): restoring the stack matters more than the journal.
  }
}

async function safeRecord(ctx: TargetContext, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    ctx.progress.warn(`could not record this in history: ${errorText(error)}`);
  }
}

/** The second signal: say what is left half done and how to repair it, record it, and go. */
function abandon(
  ctx: TargetContext,
  journal: Journal,
  history: History,
  target: Target,
  action: Action,
  running: Record<ServiceName, ServiceState>,
  port: number,
  started: number,
  signal: string,
): void {
  const record = journal.read();
  const what = record && !("unreadable" in record) ? describeStep(record) : "a step of this deploy";
  const left = `stopped by a second ${signal}: ${what}. The journal ${journal.file} records it; the next \`bun deploy.ts up\`, \`rollback\` or \`down\` repairs it first, and \`bun deploy.ts status\` shows what runs meanwhile`;
  ctx.io.stderr(`deploy: ${left}\n`);
  history
    .append(row(target, action, "interrupted", running, [], port, started, { message: left, left }))
    .catch(() => undefined);
}
