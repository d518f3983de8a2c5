/**
 * Over 250 lines on purpose: one step's phases and its recovery share what the step learnt
 * (old and new containers, the canary, whether probes work), so they stay one class.
 *
 * One Compose rollout step: one service from what it ran (`previous`) to what the plan asks
 * (`target`), in phases the journal announces one by one:
 *
 * 1. canary (only when containers of the service run): one container of the new version beside
 *    the running ones, with no network alias and no published port (no request reaches it), probed
 *    on its real route, then removed at once (nothing to drain). A broken version stops here and
 *    nothing that serves was touched.
 * 2. start: a service with replicas running gets the new ones beside the old (surge: service1,
 *    and service2 behind the edge); otherwise the service is started (or recreated: service2
 *    publishing the port itself) as planned.
 * 3. probe: every new container running and its real route answering by itself.
 * 4. health (surge): every new container healthy by Docker's own check, before the old go.
 * 5. retire (surge): the old containers stop (they drain) and are removed. Behind the edge, a
 *    replica that stops listening is skipped and the request retried on another one.
 * 6. edge (service2): the edge in front of it started, or replaced when its image (its config)
 *    changed. A step that changes only the edge has just this phase and verify. When neither
 *    service2 nor the edge runs (a first deploy), the edge starts in the start phase instead.
 * 7. verify: requests through the published port, several in a row, while Docker's health check
 *    of every new container (and of a new edge) comes to "healthy". The step ends when both pass.
 *
 * Without old containers to keep (replace), Docker's health is awaited only in verify, beside
 * the edge's start and the requests: Docker 20.10 runs a container's first check one interval
 * (2 s) after it starts, and the probe has by then asked more of it than `/healthz` does.
 *
 * `recover` undoes the step after a failure or an interrupt (removes the canary or the new
 * containers, or puts `previous` back), or, once the old containers are being retired, finishes it.
 */
import type { Phase, StepRecord } from "../deploy/journal";
import { edgeChanged, type ServiceState, serviceChanged } from "../deploy/plan";
import { errorText, GateFailed } from "../errors";
import { containerDiagnostics, inspectContainers, removeContainers, retireContainers } from "../images/docker";
import type { ServiceName } from "../services";
import { composeArgv } from "./compose-argv";
import { type ComposeStack, isRunning, publishedUrl } from "./compose-stack";
import type { Restored, Rollout, RolloutPhase, StepContext } from "./target";

/** Requests in a row through service2 after a cut-over; and how long they may take at most. */
const VERIFY_SUCCESSES = 5;
const VERIFY_TIMEOUT_MS = 20_000;

export class ComposeRollout implements Rollout {
  private readonly service: ServiceName;
  /** Ids of the containers the start phase created. */
  private fresh: string[] = [];
  /** Ids of the edge containers the edge phase started (their health is checked in verify). */
  private freshEdge: string[] = [];
  private probeUnsupported = false;

  constructor(
    private readonly stack: ComposeStack,
    readonly record: StepRecord,
    private readonly context: StepContext,
    /** Resumed from a journal a killed deploy left: its Compose commands may still run. */
    private readonly resumed = false,
  ) {
    this.service = record.services[0] as ServiceName;
  }

  private get previous(): ServiceState | null {
    return this.record.previous[this.service] ?? null;
  }

  private get target(): ServiceState {
    return this.record.target[this.service] as ServiceState;
  }

  private get surge(): boolean {
    return this.record.detail?.mode === "surge";
  }

  /** service2 as it runs, only the edge in front of it changes. */
  private get edgeOnly(): boolean {
    return this.record.detail?.mode === "edge";
  }

  /** The edge starts in the start phase, at the same time as service2 (nothing of either runs). */
  private get edgeAlongside(): boolean {
    return this.record.detail?.alongside === true;
  }

  /** The step starts, replaces or removes the edge. */
  private get touchesEdge(): boolean {
    return this.service === "service2" && this.record.detail?.edge === true;
  }

  /** Writes the override with this service at `state` and the rest of the stack as it runs. */
  private writeWith(state: ServiceState, port: number): void {
    this.stack.write({ ...this.context.running, [this.service]: state }, port);
  }

  /**
   * The same when no Compose command follows (undoing a canary or a surge only removes
   * containers): a failed write (a full disk) must not stop the undo; the next deploy writes the
   * files again before it runs Compose.
   */
  private noteWith(state: ServiceState, port: number): void {
    try {
      this.writeWith(state, port);
    } catch (error) {
      this.stack.progress.warn(
        `could not rewrite the Compose files (${errorText(error)}); the next deploy writes them`,
      );
    }
  }

  async prepare(): Promise<void> {
    const containers = await this.stack.snapshot(true);
    const running = containers[this.service];
    const old = running.map((c) => c.id);
    this.record.oldContainers = old;
    const prev = this.previous;
    const target = this.target;
    // service2 can stand beside itself only behind the edge, before and after: one port otherwise.
    const besideOld = this.service === "service1" || (prev?.edge !== undefined && target.edge !== undefined);
    let mode = besideOld && old.length > 0 && prev !== null ? "surge" : "replace";
    let edge = false;
    let alongside = false;
    if (this.service === "service2") {
      const edgeNow = containers.edge;
      const port = this.record.port.target;
      const portMoved = port !== 0 && edgeNow.some((c) => publishedUrl(c) !== `http://127.0.0.1:${port}`);
      edge = target.edge
        ? edgeChanged(prev, target) ||
          portMoved ||
          !(edgeNow.length === 1 && edgeNow.every((c) => c.image === target.edge?.image && isRunning(c)))
        : edgeNow.length > 0;
      const serviceAsIs =
        prev !== null &&
        !serviceChanged({ ...prev, edge: target.edge }, target) &&
        running.length === target.replicas &&
        running.every((c) => c.image === target.image && isRunning(c));
      // Only the edge changes when service2 stays behind it; adding or removing the edge moves the
      // port between the edge and service2, which recreates service2 (replace).
      if (edge && serviceAsIs && besideOld) mode = "edge";
      // Neither runs (a first deploy): the edge starts beside service2 instead of after it.
      alongside = edge && target.edge !== undefined && old.length === 0 && edgeNow.length === 0;
    }
    this.record.detail = { ...this.record.detail, mode, edge, alongside };
  }

  get phases(): RolloutPhase[] {
    const s = this.service;
    const t = this.target;
    const edgePhase: RolloutPhase = {
      phase: "edge",
      name: t.edge ? `edge: start or replace (${t.edge.image})` : "edge: remove",
      run: () => this.edge(),
    };
    const verifyPhase: RolloutPhase = {
      phase: "verify",
      name: "verify: requests through the published port reach service1, new containers healthy",
      run: () => this.verify(this.context.signal),
    };
    if (this.edgeOnly) return [edgePhase, verifyPhase];
    // With nothing of the service running there is nothing a canary could protect: the new
    // containers' own probes and health are the gate, and a first deploy saves a container start.
    const canary: RolloutPhase[] =
      this.record.oldContainers.length === 0
        ? []
        : [{ phase: "canary", name: `${s} ${t.version}: canary, probed on its own`, run: () => this.canary() }];
    const phases: RolloutPhase[] = [
      ...canary,
      {
        phase: "start",
        name: this.surge
          ? `${s} ${t.version}: start ${t.replicas} new beside ${this.record.oldContainers.length} old`
          : `${s} ${t.version}: start ${t.replicas} container(s)${this.edgeAlongside ? " and the edge" : ""}`,
        run: () => this.start(),
      },
      { phase: "probe", name: `${s} ${t.version}: probe each new container`, run: () => this.probeFresh() },
    ];
    if (this.surge) {
      // The old containers go only once the new ones are healthy by Docker's own check too.
      phases.push({
        phase: "health",
        name: `${s} ${t.version}: wait for health`,
        run: () => this.health(),
      });
      phases.push({
        phase: "retire",
        name: `${s}: retire ${this.record.oldContainers.length} old container(s)`,
        run: () => retireContainers(this.record.oldContainers),
      });
    }
    // Removing the edge happens in start, before service2 takes the port.
    if (this.touchesEdge && t.edge && !this.edgeAlongside) phases.push(edgePhase);
    phases.push(verifyPhase);
    return phases;
  }

  /** The edge as the target state asks: started or replaced (its image changed); verify waits for its health. */
  private async edge(): Promise<void> {
    const edge = this.target.edge;
    if (!edge) {
      await this.removeEdge();
      return;
    }
    this.writeWith(this.target, this.record.port.target);
    await this.stack.compose((p) => composeArgv.up(p, "edge", 1), "starting the edge");
    this.freshEdge = await this.stack.containerIds("edge");
  }

  private async removeEdge(): Promise<void> {
    const ids = await this.stack.containerIds("edge", true);
    if (ids.length > 0) await retireContainers(ids);
  }

  private async canary(): Promise<void> {
    const name = this.record.canary as string;
    this.writeWith(this.target, this.context.port);
    await this.stack.compose((p) => composeArgv.canary(p, this.service, name), `starting a ${this.service} canary`);
    const [canary] = (await inspectContainers(await this.stack.canaryIds(this.service))).filter((c) => c.name === name);
    if (!canary) throw new GateFailed(`the canary ${name} did not start`);
    try {
      const result = await this.stack.probe(canary.id, this.service, this.context.timeoutMs, this.context.signal);
      if (result === "unsupported") {
        this.probeUnsupported = true;
        this.stack.progress.warn(
          `${this.service} ${this.target.version}: its binary has no --probe (built before it existed); waiting for its health check instead, and its route is checked through service2 after the cut-over`,
        );
        await this.stack.waitHealthy([canary.id], this.context.timeoutMs, this.context.signal);
      }
    } catch (error) {
      if (error instanceof GateFailed) {
        throw new GateFailed(`canary: ${error.message}`, await containerDiagnostics([canary.id]));
      }
      throw error;
    } finally {
      await this.removeCanaries();
    }
  }

  /** No request reaches a canary (no alias, no published port): it is removed without a drain. */
  private async removeCanaries(): Promise<void> {
    const ids = await this.stack.canaryIds(this.service);
    await removeContainers(ids);
    this.record.canary = null;
  }

  private async start(): Promise<void> {
    const old = this.record.oldContainers;
    if (this.surge) {
      this.writeWith(this.target, this.context.port);
      await this.stack.compose(
        (p) => composeArgv.surge(p, this.service, old.length + this.target.replicas),
        `starting new ${this.service} containers`,
      );
    } else {
      // Without the edge, service2 takes the port the edge held: the edge goes first.
      if (this.service === "service2" && !this.target.edge) await this.removeEdge();
      this.writeWith(this.target, this.record.port.target);
      // Two Compose commands at once: one command naming both would hold the edge back until
      // service2 is healthy (its depends_on), about 2 s of Docker's first health check. Both end
      // before a failure is raised: undoing the step while the other still ran would race it.
      const started = await Promise.allSettled([
        this.stack.compose((p) => composeArgv.up(p, this.service, this.target.replicas), `starting ${this.service}`),
        this.edgeAlongside ? this.stack.compose((p) => composeArgv.up(p, "edge", 1), "starting the edge") : undefined,
      ]);
      const failed = started.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
      if (this.edgeAlongside) this.freshEdge = await this.stack.containerIds("edge");
    }
    await this.findFresh();
  }

  /** The step's new containers: all of them when replacing, those not there before when surging. */
  private async findFresh(): Promise<string[]> {
    const now = await this.stack.containerIds(this.service, true);
    this.fresh = this.surge ? now.filter((id) => !this.record.oldContainers.includes(id)) : now;
    return this.fresh;
  }

  private async withDiagnostics(check: () => Promise<void>): Promise<void> {
    try {
      await check();
    } catch (error) {
      if (!(error instanceof GateFailed) || error.diagnostics) throw error;
      throw new GateFailed(error.message, await containerDiagnostics(this.fresh));
    }
  }

  private async probeFresh(): Promise<void> {
    if (this.fresh.length === 0) await this.findFresh();
    await this.withDiagnostics(async () => {
      if (!this.probeUnsupported) {
        for (const id of this.fresh) {
          if (
            (await this.stack.probe(id, this.service, this.context.timeoutMs, this.context.signal)) === "unsupported"
          ) {
            this.probeUnsupported = true;
            break;
          }
        }
      }
      // A binary without --probe: its health check is all that can be asked of it before the old go.
      if (this.probeUnsupported) await this.stack.waitHealthy(this.fresh, this.context.timeoutMs, this.context.signal);
    });
  }

  /**
   * Requests through the published port and Docker's health of what this step started, at once;
   * the first to fail stops the other.
   */
  private async verify(signal?: AbortSignal): Promise<void> {
    const failed = new AbortController();
    const either = signal ? AbortSignal.any([signal, failed.signal]) : failed.signal;
    try {
      await Promise.all([this.requestsThrough(either), this.newContainersHealthy(either)]);
    } catch (error) {
      failed.abort();
      throw error;
    }
  }

  private async health(signal = this.context.signal): Promise<void> {
    if (this.fresh.length === 0 && !this.edgeOnly) await this.findFresh();
    await this.withDiagnostics(() => this.stack.waitHealthy(this.fresh, this.context.timeoutMs, signal));
  }

  private async newContainersHealthy(signal: AbortSignal): Promise<void> {
    await this.health(signal);
    try {
      await this.stack.waitHealthy(this.freshEdge, this.context.timeoutMs, signal);
    } catch (error) {
      if (error instanceof GateFailed) {
        throw new GateFailed(`edge: ${error.message}`, await containerDiagnostics(this.freshEdge));
      }
      throw error;
    }
  }

  private async requestsThrough(signal: AbortSignal): Promise<void> {
    const url = await this.stack.url();
    if (url === null) {
      if (this.service === "service2") {
        throw new GateFailed(`${this.target.edge ? "the edge" : "service2"} publishes no port on 127.0.0.1`);
      }
      return; // service1 on its own (service2 not deployed yet): its probes were the gate
    }
    await this.stack.verifyThroughService2(
      url,
      Math.min(this.context.timeoutMs, VERIFY_TIMEOUT_MS),
      VERIFY_SUCCESSES,
      signal,
    );
  }

  async recover(at: Phase, cause: "failed" | "interrupted"): Promise<Restored> {
    try {
      if (this.resumed) await this.stack.waitForOrphans(this.context.timeoutMs);
      await this.removeCanaries();
      if (at === "canary") {
        this.noteWith(this.previous ?? this.target, this.record.port.previous);
        return this.unchanged("the canary was removed; nothing that serves was touched");
      }
      if (at === "retire" || (at === "verify" && cause === "interrupted")) {
        // Past the point of no return: the new containers passed their probes, the old are going.
        await retireContainers(this.record.oldContainers);
        try {
          if (at === "retire" && this.touchesEdge && this.target.edge) await this.edge();
          await this.verify();
          return {
            ok: true,
            finished: true,
            message: `${this.service} finished at ${this.target.version} x${this.target.replicas}`,
            states: { [this.service]: this.target },
          };
        } catch (error) {
          this.stack.progress.warn(`${this.service} ${this.target.version}: ${errorText(error)}; restoring`);
          return await this.putBack();
        }
      }
      if (this.surge && (await this.oldStillRun())) {
        await retireContainers((await this.stack.containerIds(this.service, true)).filter((id) => !this.isOld(id)));
        this.noteWith(this.previous as ServiceState, this.record.port.previous);
        // They never stopped serving: healthy and reached through service2 is enough.
        await this.checkBack(this.record.oldContainers, false);
        return this.unchanged("its new containers were removed; the old ones kept serving");
      }
      return await this.putBack();
    } catch (error) {
      return { ok: false, message: errorText(error), states: {} };
    }
  }

  private isOld(id: string): boolean {
    return this.record.oldContainers.includes(id);
  }

  private async oldStillRun(): Promise<boolean> {
    const now = await this.stack.containers(this.service, true);
    const old = now.filter((c) => this.isOld(c.id));
    return old.length === this.record.oldContainers.length && old.every(isRunning);
  }

  private unchanged(what: string): Restored {
    const prev = this.previous;
    return {
      ok: true,
      message: prev
        ? `${what}: ${this.service} is back at ${prev.version} x${prev.replicas}`
        : `${what}: ${this.service} is not running (it never ran well)`,
      states: { [this.service]: prev ?? { ...this.target, replicas: 0 } },
    };
  }

  /** Health, probe and a request through service2 of what runs after a restore. */
  private async checkBack(ids: string[], probe = true): Promise<void> {
    await this.stack.waitHealthy(ids, this.context.timeoutMs);
    if (probe && !this.probeUnsupported) {
      for (const id of ids) await this.stack.probe(id, this.service, this.context.timeoutMs);
    }
    const url = await this.stack.url();
    if (url !== null) await this.stack.verifyThroughService2(url, this.context.timeoutMs, 1);
  }

  /** Puts `previous` back with Compose (or removes the service when it never ran well). */
  private async putBack(): Promise<Restored> {
    const prev = this.previous;
    const { progress } = this.stack;
    if (!prev) {
      if (this.service === "service2") await this.removeEdge();
      await retireContainers(await this.stack.containerIds(this.service, true));
      this.noteWith(this.target, this.record.port.previous);
      return {
        ok: true,
        message: `${this.service} had no earlier good version; its containers were removed`,
        states: { [this.service]: { ...this.target, replicas: 0 } },
      };
    }
    const now = await this.stack.containers(this.service, true);
    const alreadyBack = now.length === prev.replicas && now.every((c) => c.image === prev.image && isRunning(c));
    // Without the edge before, service2 held the port itself: the edge must not hold it now.
    if (this.service === "service2" && !prev.edge) await this.removeEdge();
    this.writeWith(prev, this.record.port.previous);
    if (!alreadyBack) {
      await progress.step(
        `${this.service}: restore ${prev.version}`,
        () => this.stack.compose((p) => composeArgv.up(p, this.service, prev.replicas), `restoring ${this.service}`),
        `${this.service}.restore`,
      );
    }
    if (this.service === "service2" && prev.edge && this.touchesEdge) {
      const edge = prev.edge;
      await progress.step(
        `edge: restore ${edge.image}`,
        async () => {
          await this.stack.compose((p) => composeArgv.up(p, "edge", 1), "restoring the edge");
          await this.stack.waitHealthy(await this.stack.containerIds("edge"), this.context.timeoutMs);
        },
        "edge.restore",
      );
    }
    await this.checkBack(await this.stack.containerIds(this.service));
    return {
      ok: true,
      message: `${this.service} is back at ${prev.version} x${prev.replicas}`,
      states: { [this.service]: prev },
    };
  }
}
