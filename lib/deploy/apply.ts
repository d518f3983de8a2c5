/**
 * Applies a plan with the health gate and automatic rollback, and implements status, down and
 * rollback on top of the same pieces. Order: validate → lock → resolve every image (nothing
 * running touched yet; failure = exit 1) → per changed service: start, gate, and on failure
 * restore only that service at its last good state (exit 3; exit 4 if that fails too).
 */
import type { Context } from "./context";
import { detectCompose, requireEngine } from "./docker";
import { DeployError, ExitCode, UsageError } from "./errors";
import { resolveImage } from "./images";
import { parseDuration, SERVICES, type ServiceName, servicesFromFlag } from "./params";
import {
  checkRegistry,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_PORT,
  type ImageSource,
  type Plan,
  type ServicePlan,
  type ServiceState,
  type ServiceStatus,
  serviceChanged,
} from "./plan";
import { type Action, DeployLock, entryFromState, type HistoryEntry, stateFromEntry } from "./state";
import { ComposeTarget, GateError, verifyEndToEnd } from "./targets/compose";
import { KNOWN_GOOD_VERSION, parseVersion, versionLabel } from "./versions";

interface LockOptions {
  lockWait?: string | undefined;
  forceUnlock: boolean;
}

function lockWaitMs(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const ms = parseDuration(raw);
  if (ms === null || ms > 3_600_000)
    throw new UsageError(`--lock_wait=${JSON.stringify(raw)} is not allowed; use a duration up to 1h, e.g. 30s`);
  return ms;
}

async function withLock<T>(ctx: Context, command: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const waitMs = lockWaitMs(opts.lockWait);
  await ctx.progress.step("check Docker engine and Compose", async () => {
    await requireEngine();
    const c = await detectCompose();
    ctx.progress.note(`compose: ${c.cmd.join(" ")} ${c.version}`);
  });
  const lock = new DeployLock(ctx.stateDir);
  await lock.acquire(command, { waitMs, force: opts.forceUnlock, note: (l) => ctx.progress.note(l) });
  try {
    return await fn();
  } finally {
    lock.unlock();
  }
}

function stateOf(s: ServicePlan | ServiceState): ServiceState {
  return { version: s.version, image: s.image, digest: s.digest, replicas: s.replicas, env: s.env };
}

/** The last good state of each service, from history. */
async function lastGoodState(
  ctx: Context,
): Promise<{ state: Partial<Record<ServiceName, ServiceState>>; port: number | null }> {
  const entries = await ctx.history.read();
  const good = entries.find((e) => e.action !== "down" && (e.result === "ok" || e.result === "rolled-back"));
  if (!good) return { state: {}, port: null };
  return {
    state: { service1: stateFromEntry(good, "service1"), service2: stateFromEntry(good, "service2") },
    port: good.port ?? null,
  };
}

async function e2eUrl(target: ComposeTarget): Promise<string | null> {
  const [s2] = await target.containers("service2");
  return s2 && s2.status === "running" ? ComposeTarget.url(s2) : null;
}

export async function apply(
  plan: Plan,
  ctx: Context,
  /** `silent`: no result line on stdout (a caller such as `integrate` prints its own). */
  opts: LockOptions & { action: Action; silent?: boolean },
): Promise<void> {
  const started = performance.now();
  const p = ctx.progress;
  await withLock(ctx, `${opts.action} (pid ${process.pid})`, opts, async () => {
    const target = new ComposeTarget(plan.project, ctx.stateDir);
    const { state: previous } = await lastGoodState(ctx);
    const requested = { service1: plan.services.service1.version, service2: plan.services.service2.version };

    // 0. The published port, before anything is pulled, built or touched.
    await checkPort(target, plan.port);

    // 1. Every image, before anything running is touched.
    const desired = {} as Record<ServiceName, ServiceState>;
    try {
      for (const service of SERVICES) {
        const s = plan.services[service];
        const resolved = await p.step(
          `${service} ${s.version}: ${s.source.kind === "build" ? "build" : "resolve"} image`,
          () => resolveImage(s, { note: (line) => p.note(line) }),
        );
        desired[service] = stateOf(resolved);
        p.note(`${service}: ${resolved.image} (${resolved.digest})`);
      }
    } catch (error) {
      await ctx.history.append({
        ...entryFromState(opts.action, "failed", { ...fill(previous, plan) }, [], plan.port, started, errorText(error)),
        requested,
      } as HistoryEntry);
      throw error;
    }

    // 2. One service at a time; the other keeps running untouched.
    const effective: Record<ServiceName, ServiceState> = fill(previous, plan);
    const changed: ServiceName[] = [];
    for (const service of SERVICES) {
      const running = await target.containers(service);
      const prev = previous[service] ?? null;
      const upToDate =
        !serviceChanged(prev, desired[service]) &&
        running.length === desired[service].replicas &&
        running.every((c) => c.image === desired[service].image && c.status === "running");
      if (upToDate) {
        p.note(`${service}: unchanged (${desired[service].version}), not restarted`);
        effective[service] = desired[service];
        continue;
      }
      changed.push(service);
      try {
        await deployService(
          target,
          ctx,
          plan,
          service,
          { ...effective, [service]: desired[service] },
          running.length > 0,
        );
        effective[service] = desired[service];
      } catch (error) {
        if (!(error instanceof GateError)) {
          throw error;
        }
        // 3. Restore only the failed service.
        p.warn(`${service} ${desired[service].version} failed its health gate: ${error.message}`);
        const diagnostics =
          error.diagnostics ?? (error.containerIds.length ? await target.diagnostics(error.containerIds) : "");
        if (diagnostics) process.stderr.write(`${diagnostics}\n`);
        const result = await restore(target, ctx, plan, service, prev, effective);
        const message = `${service} ${desired[service].version} failed its gate (${error.message}); ${result.ok ? "restored" : "restore failed"}: ${result.message}`;
        await ctx.history.append({
          ...entryFromState(
            opts.action,
            result.ok ? "rolled-back" : "restore-failed",
            effective,
            changed,
            plan.port,
            started,
            message,
          ),
          requested,
        } as HistoryEntry);
        throw new DeployError(message, result.ok ? ExitCode.rolledBack : ExitCode.restoreFailed);
      }
    }
    await ctx.history.append({
      ...entryFromState(opts.action, "ok", effective, changed, plan.port, started),
      requested,
    } as HistoryEntry);
    const url = await e2eUrl(target);
    if (opts.silent) return;
    process.stdout.write(
      `deployed service1 ${effective.service1.version} x${effective.service1.replicas}, service2 ${effective.service2.version}` +
        `${url ? ` at ${url}` : ""} in ${((performance.now() - started) / 1000).toFixed(1)}s\n`,
    );
  });
}

/** True when something on this machine accepts connections or holds a listener on 127.0.0.1:port. */
function portTaken(port: number): boolean {
  try {
    const probe = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    probe.stop(true);
    return false;
  } catch {
    return true;
  }
}

/**
 * Fails (exit 1, nothing changed) when the port service2 should publish is held by anything but
 * this project's own service2: Compose would otherwise stop the running service2 and then fail
 * to start the new one, leaving the stack without its entry point.
 */
async function checkPort(target: ComposeTarget, port: number): Promise<void> {
  if (port === 0) return;
  const ours = (await target.containers("service2")).some((c) => ComposeTarget.url(c) === `http://127.0.0.1:${port}`);
  if (ours || !portTaken(port)) return;
  throw new DeployError(
    `port ${port} on 127.0.0.1 is in use by another program, so service2 cannot be published there`,
    ExitCode.failed,
    `stop what listens on it (see \`ss -ltnp 'sport = :${port}'\`) or pass --port=<free port> (--port=0 lets the engine pick)`,
  );
}

function fill(previous: Partial<Record<ServiceName, ServiceState>>, plan: Plan): Record<ServiceName, ServiceState> {
  return {
    service1: previous.service1 ?? stateOf(plan.services.service1),
    service2: previous.service2 ?? stateOf(plan.services.service2),
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Starts `service` as in `state` and runs its gate; throws GateError when it fails. */
async function deployService(
  target: ComposeTarget,
  ctx: Context,
  plan: Plan,
  service: ServiceName,
  state: Record<ServiceName, ServiceState>,
  isRunning: boolean,
): Promise<void> {
  const p = ctx.progress;
  const s = state[service];
  const timeout = plan.gate.timeoutMs;
  target.write(state, plan.port);
  if (service === "service1" && isRunning) {
    // Zero-gap replacement: new replicas beside the old, gate them, then retire the old ones.
    const { old, fresh } = await p.step(`service1 ${s.version}: start ${s.replicas} new beside ${"old"}`, () =>
      target.surge("service1", s.replicas),
    );
    try {
      await p.step(`service1 ${s.version}: wait for health`, () => target.waitHealthy(fresh, timeout));
      const url = await e2eUrl(target);
      if (url) await p.step("verify a request through service2 reaches service1", () => verifyEndToEnd(url, timeout));
    } catch (error) {
      // The old replicas never stopped: drop the new ones and the stack is as before.
      const diagnostics = await target.diagnostics(fresh);
      await target.retire(fresh);
      throw error instanceof GateError ? new GateError(error.message, [], diagnostics) : error;
    }
    await p.step(`service1: retire ${old.length} old container(s)`, () => target.retire(old));
    return;
  }
  await p.step(`${service} ${s.version}: start ${s.replicas} container(s)`, () => target.up(service, s.replicas));
  const ids = await target.containerIds(service);
  await p.step(`${service} ${s.version}: wait for health`, () => target.waitHealthy(ids, timeout));
  const url = await e2eUrl(target);
  if (url) await p.step("verify a request through service2 reaches service1", () => verifyEndToEnd(url, timeout));
  else if (service === "service2") throw new GateError("service2 publishes no port on 127.0.0.1", ids);
}

/** Puts `service` back at `prev` (or removes it when it never ran well), then verifies again. */
async function restore(
  target: ComposeTarget,
  ctx: Context,
  plan: Plan,
  service: ServiceName,
  prev: ServiceState | null,
  effective: Record<ServiceName, ServiceState>,
): Promise<{ ok: boolean; message: string }> {
  const p = ctx.progress;
  try {
    if (!prev) {
      await p.step(`${service}: no earlier good version, removing it`, async () =>
        target.retire(await target.containerIds(service, true)),
      );
      effective[service] = { ...effective[service], replicas: 0 };
      return { ok: true, message: `${service} had no earlier good version; its containers were removed` };
    }
    const running = await target.containers(service);
    const alreadyBack =
      running.length === prev.replicas && running.every((c) => c.image === prev.image && c.status === "running");
    target.write({ ...effective, [service]: prev }, plan.port);
    if (!alreadyBack) {
      await p.step(`${service}: restore ${prev.version}`, () => target.up(service, prev.replicas));
    }
    const ids = await target.containerIds(service);
    await p.step(`${service} ${prev.version}: wait for health`, () => target.waitHealthy(ids, plan.gate.timeoutMs));
    const url = await e2eUrl(target);
    if (url)
      await p.step("verify a request through service2 reaches service1", () =>
        verifyEndToEnd(url, plan.gate.timeoutMs),
      );
    effective[service] = prev;
    return { ok: true, message: `${service} is back at ${prev.version} x${prev.replicas}` };
  } catch (error) {
    return { ok: false, message: errorText(error) };
  }
}

export interface StatusReport {
  project: string;
  services: Record<ServiceName, ServiceStatus>;
}

export async function status(ctx: Context): Promise<StatusReport> {
  await requireEngine();
  const target = new ComposeTarget(ctx.project, ctx.stateDir);
  const { state } = await lastGoodState(ctx);
  const services = {} as StatusReport["services"];
  for (const service of SERVICES) {
    const containers = await target.containers(service, true);
    const running = containers.filter((c) => c.status === "running");
    const healthy = running.filter((c) => (c.health ?? "healthy") === "healthy");
    const first = running[0] ?? containers[0];
    const known = state[service];
    const image = first?.image ?? null;
    const health =
      containers.length === 0
        ? "down"
        : healthy.length === containers.length
          ? "healthy"
          : healthy.length === 0
            ? (first?.health ?? first?.status ?? "down")
            : `degraded (${healthy.length}/${containers.length} healthy)`;
    services[service] = {
      version:
        known && known.image === image ? known.version : (first?.labels["org.opencontainers.image.version"] ?? null),
      image,
      digest: known && known.image === image ? known.digest : (first?.imageId ?? null),
      replicas: running.length,
      health,
      url: running.map((c) => ComposeTarget.url(c)).find((u) => u !== null) ?? null,
    };
  }
  return { project: ctx.project, services };
}

export async function down(ctx: Context, opts: LockOptions & { volumes: boolean; silent?: boolean }): Promise<void> {
  const started = performance.now();
  await withLock(ctx, `down (pid ${process.pid})`, opts, async () => {
    const target = new ComposeTarget(ctx.project, ctx.stateDir);
    const { state, port } = await lastGoodState(ctx);
    const placeholder: ServiceState = { version: "-", image: "-", digest: null, replicas: 0, env: {} };
    target.write(
      { service1: state.service1 ?? placeholder, service2: state.service2 ?? placeholder },
      port ?? DEFAULT_PORT,
    );
    await ctx.progress.step(`remove project ${ctx.project}`, () => target.down(opts.volumes));
    const after = {
      service1: { ...(state.service1 ?? placeholder), replicas: 0 },
      service2: { ...(state.service2 ?? placeholder), replicas: 0 },
    };
    await ctx.history.append(entryFromState("down", "ok", after, [...SERVICES], port ?? DEFAULT_PORT, started));
    if (!opts.silent) process.stdout.write(`removed project ${ctx.project}; history kept in ${ctx.stateDir}\n`);
  });
}

/**
 * Puts services back at an earlier good state from history: `--to=V` picks the newest good entry
 * running V; `--to=known-good` pulls the image last promoted in the registry (by digest) and keeps
 * the service's current settings; the default is the newest good state that differs from the
 * current one.
 */
export async function rollback(
  ctx: Context,
  opts: LockOptions & {
    service?: string | undefined;
    to?: string | undefined;
    /** Where `--to=known-good` is looked up (default env REGISTRY). */
    registry?: string | undefined;
    healthTimeout?: string | undefined;
  },
): Promise<void> {
  const services = servicesFromFlag(opts.service);
  let toVersion: string | undefined;
  let knownGood: string | undefined;
  if (opts.to !== undefined) {
    const spec = parseVersion(opts.to);
    if (!spec)
      throw new UsageError(
        `--to=${JSON.stringify(opts.to)} is not a version; use known-good, dev or a tag such as 1.2.3`,
      );
    toVersion = versionLabel(spec);
    if (spec.kind === "known-good") {
      knownGood = opts.registry || Bun.env.REGISTRY || undefined;
      if (!knownGood)
        throw new UsageError(
          "--to=known-good names the image last promoted in a registry; give --registry=R (or env REGISTRY)",
          "e.g. bun deploy.ts rollback --service=service2 --to=known-good --registry=127.0.0.1:5000/timekit",
        );
      const problem = checkRegistry(knownGood);
      if (problem) throw new UsageError(problem);
    }
  }
  let timeoutMs = DEFAULT_HEALTH_TIMEOUT_MS;
  if (opts.healthTimeout !== undefined) {
    const ms = parseDuration(opts.healthTimeout);
    if (ms === null || ms < 1000)
      throw new UsageError(
        `--health_timeout=${JSON.stringify(opts.healthTimeout)} is not allowed; use a duration from 1s, e.g. 30s`,
      );
    timeoutMs = ms;
  }

  const entries = (await ctx.history.read()).filter(
    (e) => e.action !== "down" && (e.result === "ok" || e.result === "rolled-back"),
  );
  const current = entries[0];
  if (!current)
    throw new DeployError(
      `nothing to roll back: no successful deploy of project ${ctx.project} in history`,
      ExitCode.failed,
    );
  const next: Record<ServiceName, ServiceState> = {
    service1: stateFromEntry(current, "service1"),
    service2: stateFromEntry(current, "service2"),
  };
  const sources: Record<ServiceName, ImageSource> = { service1: { kind: "pinned" }, service2: { kind: "pinned" } };
  for (const service of services) {
    const now = next[service];
    if (knownGood !== undefined) {
      // The promoted image, pulled by its known-good tag and pinned by digest; settings stay.
      next[service] = {
        ...now,
        version: KNOWN_GOOD_VERSION,
        image: `${knownGood}/${service}:${KNOWN_GOOD_VERSION}`,
        digest: null,
      };
      sources[service] = { kind: "registry", registry: knownGood };
      continue;
    }
    const found = entries.find((e) => {
      const s = stateFromEntry(e, service);
      return toVersion !== undefined
        ? s.version === toVersion && s.replicas > 0
        : s.replicas > 0 && serviceChanged(now, s);
    });
    if (!found) {
      if (opts.service !== undefined || toVersion !== undefined) {
        throw new DeployError(
          toVersion !== undefined
            ? `${service} never ran version ${toVersion} successfully in project ${ctx.project}`
            : `${service} has no earlier good state to go back to`,
          ExitCode.failed,
          "see `bun deploy.ts history` for what ran",
        );
      }
      continue;
    }
    next[service] = stateFromEntry(found, service);
  }
  const plan: Plan = {
    target: "compose",
    project: ctx.project,
    port: current.port ?? DEFAULT_PORT,
    gate: { timeoutMs },
    services: {
      service1: { ...next.service1, name: "service1", source: sources.service1 },
      service2: { ...next.service2, name: "service2", source: sources.service2 },
    },
  };
  await apply(plan, ctx, { ...opts, action: "rollback" });
}
