/**
 * The Compose target: the project's compose.yaml plus an override this CLI writes (image,
 * settings and limits of each service), replica counts through `--scale`, services started one at
 * a time with `--no-deps` so an unchanged service is never restarted. Each changed service is its
 * own rollout step (compose-rollout.ts): a canary first, then the service replaced without a gap
 * (new replicas beside the old, probed, then the old retired; service2 behind the edge, which owns
 * the published port) or recreated (service2 publishing the port itself), then the edge when it
 * changes, then requests through the published port.
 *
 * Compose runs with the Docker client's variables only and an environment file of ours: nothing
 * in the deployer's shell, and no `.env` beside compose.yaml, reaches the stack.
 */
import type { LastGood } from "../deploy/history";
import type { StepRecord } from "../deploy/journal";
import {
  describePlan,
  EDGE_PENDING,
  type EdgeState,
  type Plan,
  type ServicePlan,
  type ServiceState,
  serviceChanged,
  stateOf,
} from "../deploy/plan";
import { StateDir } from "../deploy/state-dir";
import { DeployError, ExitCode } from "../errors";
import { type ContainerInfo, inspectImage, requireEngine, retireContainers } from "../images/docker";
import { ensureEdgeImage } from "../images/edge";
import { resolveImage } from "../images/resolve";
import { DEFAULT_PORT } from "../limits";
import { perService, SERVICES, type ServiceName } from "../services";
import { type ComposeService, composeArgv } from "./compose-argv";
import { checkPort } from "./compose-port";
import { ComposeRollout } from "./compose-rollout";
import { type ComposeSettings, ComposeStack, frontUrl, isRunning, publishedUrl } from "./compose-stack";
import { composeEdgeStatus, composeServiceStatus } from "./compose-status";
import type { DryRun, Rollout, StatusReport, StepContext, Target, TargetContext } from "./target";

export { type ComposeSettings, publishedUrl };

export class ComposeTarget implements Target {
  readonly kind = "compose";
  readonly historyFields = {};
  readonly undo = null;
  readonly stateDir: string;
  private readonly stack: ComposeStack;
  /** What `steps` saw, until a rollout changes it: a deploy that changes nothing asks the engine once. */
  private seen: Record<ComposeService, ContainerInfo[]> | null = null;

  constructor(
    private readonly ctx: TargetContext,
    private readonly settings: ComposeSettings,
  ) {
    this.stateDir = ctx.stateDir;
    const state = new StateDir(ctx.stateDir, ctx.stateRoot);
    this.stack = new ComposeStack(ctx.project, settings, state, ctx.io, ctx.progress);
  }

  async dryRun(plan: Plan, diff: string): Promise<DryRun> {
    return { text: `${diff}\n${describePlan(plan)}`, json: {} };
  }

  /**
   * The engine must answer before anything else; which Compose command answers is asked in the
   * background and awaited only when the deploy changes something (see `steps`).
   */
  async preflight(plan: Plan): Promise<void> {
    await this.ctx.progress.step("check Docker engine", async () => {
      this.stack.startDetecting();
      await requireEngine();
    });
    await checkPort(plan, this.stack);
  }

  /** Both services' images and the edge's, at once (lookups, pulls and loads are independent). */
  async resolveImages(plan: Plan): Promise<Plan> {
    const { progress } = this.ctx;
    const resolve = (service: ServiceName) => {
      const s = plan.services[service];
      return progress.step(
        `${service} ${s.version}: ${s.source.kind === "build" ? "build" : "resolve"} image`,
        async () => {
          const resolved = await resolveImage(s, (line) => progress.note(line));
          progress.note(`${service}: ${resolved.image} (${resolved.digest})`);
          return resolved;
        },
        `${service}.image`,
      );
    };
    // Builds share the machine's cores and print their own progress: one after the other.
    const builds = SERVICES.some((service) => plan.services[service].source.kind === "build");
    const edge = plan.services.service2.edge;
    const [resolved, edgeState] = await Promise.all([
      builds ? sequentially(SERVICES, resolve) : Promise.all(SERVICES.map(resolve)),
      edge ? this.resolveEdge(edge, plan) : Promise.resolve(undefined),
    ]);
    const services = perService((service) => resolved[SERVICES.indexOf(service)] as ServicePlan);
    if (edgeState) services.service2 = { ...services.service2, edge: edgeState };
    return { ...plan, services };
  }

  /** A new deploy assembles the edge image from the local Caddy; a rollback needs the one it ran. */
  private async resolveEdge(edge: EdgeState, plan: Plan): Promise<EdgeState> {
    const { progress } = this.ctx;
    if (edge.image !== EDGE_PENDING) {
      const info = await inspectImage(edge.image);
      if (!info) {
        throw new DeployError(
          `the edge image ${edge.image} is no longer in the local engine`,
          ExitCode.failed,
          "`bun deploy.ts up --no-publish_service2_directly` assembles the edge image again from the local Caddy",
        );
      }
      return { image: edge.image, digest: edge.digest ?? info.id };
    }
    const built = await progress.step(
      "edge: assemble image from the local caddy",
      () =>
        ensureEdgeImage({
          repository: plan.services.service2.repository,
          ...(this.settings.edgeConfig ? { config: this.settings.edgeConfig } : {}),
          onProgress: (line) => progress.note(line),
        }),
      "edge.image",
    );
    progress.note(`edge: ${built.image} (${built.digest})${built.built ? "" : ", already built"}`);
    return { image: built.image, digest: built.digest };
  }

  /** True when the edge runs as `desired` asks (one healthy-or-starting container of its image, or none). */
  private edgeAsPlanned(desired: ServiceState, edge: ContainerInfo[]): boolean {
    if (!desired.edge) return edge.length === 0;
    return edge.length === 1 && edge.every((c) => c.image === desired.edge?.image && isRunning(c));
  }

  async steps(plan: Plan, previous: LastGood): Promise<ServiceName[][]> {
    const steps: ServiceName[][] = [];
    const containers = await this.stack.snapshot(true);
    this.seen = containers;
    for (const service of SERVICES) {
      const desired = plan.services[service];
      const now = containers[service];
      // What publishes the port: the edge, or service2 itself without it.
      const front = desired.edge ? containers.edge : now;
      const portMoved =
        service === "service2" &&
        plan.port !== 0 &&
        front.some((c) => isRunning(c) && publishedUrl(c) !== `http://127.0.0.1:${plan.port}`);
      const upToDate =
        !serviceChanged(previous.states[service], desired) &&
        !portMoved &&
        (service !== "service2" || this.edgeAsPlanned(desired, containers.edge)) &&
        now.length === desired.replicas &&
        now.every((c) => c.image === desired.image && isRunning(c));
      if (upToDate) this.ctx.progress.note(`${service}: unchanged (${desired.version}), not restarted`);
      else steps.push([service]);
    }
    // Something changes: Compose must answer before the first state write.
    if (steps.length > 0) await this.stack.ready();
    return steps;
  }

  rollout(plan: Plan, step: ServiceName[], context: StepContext, previous: LastGood): Rollout {
    const [service] = step as [ServiceName];
    this.seen = null;
    const record: StepRecord = {
      services: [service],
      phase: "canary",
      previous: { [service]: previous.states[service] },
      target: { [service]: stateOf(plan.services[service]) },
      port: { previous: context.port, target: plan.port },
      oldContainers: [],
      canary: `${this.ctx.project}_${service}_canary_${Math.random().toString(36).slice(2, 10)}`,
    };
    return new ComposeRollout(this.stack, record, context);
  }

  resume(record: StepRecord, context: StepContext): Rollout {
    this.seen = null;
    return new ComposeRollout(this.stack, record, context, true);
  }

  async summary(state: Record<ServiceName, ServiceState>): Promise<string> {
    const url = this.seen ? frontUrl(this.seen) : await this.stack.url();
    const s2 = state.service2;
    return `service1 ${state.service1.version} x${state.service1.replicas}, service2 ${s2.version} x${s2.replicas}${s2.edge ? " behind the edge" : ""}${url ? ` at ${url}` : ""}`;
  }

  /**
   * The contract's two service rows, and the edge beside them under its own key (null: no edge
   * runs). Behind the edge, service2's own containers publish nothing: its `url` and `reach` are
   * the edge's.
   */
  async status(lastGood: LastGood): Promise<StatusReport> {
    await requireEngine();
    const { edge: edgeContainers, ...serviceContainers } = await this.stack.snapshot(true);
    // The edge's version and image are what its containers say (its image's labels).
    const edge = edgeContainers.length ? composeEdgeStatus(edgeContainers) : null;
    const services = {} as Record<ServiceName, ReturnType<typeof composeServiceStatus>>;
    SERVICES.forEach((service) => {
      services[service] = composeServiceStatus(
        serviceContainers[service],
        lastGood.states[service],
        service,
        service === "service2" ? (edge?.url ?? null) : null,
      );
    });
    return { project: this.ctx.project, services, edge };
  }

  async platformHistory(): Promise<string | null> {
    return null;
  }

  async down(options: { volumes: boolean; lastGood: LastGood }): Promise<void> {
    await Promise.all([requireEngine(), this.stack.ready()]);
    const placeholder: ServiceState = { version: "-", image: "-", digest: null, replicas: 0, env: {} };
    this.stack.write(
      perService((service) => options.lastGood.states[service] ?? placeholder),
      options.lastGood.port ?? DEFAULT_PORT,
    );
    await this.ctx.progress.step(`remove project ${this.ctx.project}`, async () => {
      for (const service of SERVICES) await retireContainers(await this.stack.canaryIds(service));
      // Without the edge in the files (compose.direct.yaml), Compose leaves an edge alone.
      await retireContainers(await this.stack.containerIds("edge", true));
      await this.stack.compose((p) => composeArgv.down(p, options.volumes), "compose down");
    });
  }
}

/** `fn` over `items`, one at a time, in order. */
async function sequentially<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await fn(item));
  return results;
}
