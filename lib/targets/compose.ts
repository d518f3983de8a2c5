/**
 * The Compose target: the project's compose.yaml plus an override this CLI writes (image,
 * settings and limits of each service), replica counts through `--scale`, services started one at
 * a time with `--no-deps` so an unchanged service is never restarted. Each changed service is its
 * own rollout step (compose-rollout.ts): a canary first, then service1 replaced without a gap (new
 * replicas beside the old, probed, then the old retired) or service2 recreated, then requests
 * through the published port.
 *
 * Compose runs with the Docker client's variables only and an environment file of ours: nothing
 * in the deployer's shell, and no `.env` beside compose.yaml, reaches the stack.
 */
import type { LastGood } from "../deploy/history";
import type { StepRecord } from "../deploy/journal";
import { describePlan, type Plan, type ServiceState, serviceChanged, stateOf } from "../deploy/plan";
import { StateDir } from "../deploy/state-dir";
import { DeployError, ExitCode } from "../errors";
import { containersLabelled, inspectContainers, requireEngine, retireContainers } from "../images/docker";
import { resolveImage } from "../images/resolve";
import { DEFAULT_PORT } from "../limits";
import { perService, SERVICES, type ServiceName } from "../services";
import { composeArgv } from "./compose-argv";
import { ComposeRollout } from "./compose-rollout";
import { type ComposeSettings, ComposeStack, isRunning, publishedUrl } from "./compose-stack";
import { composeServiceStatus } from "./compose-status";
import type { DryRun, Rollout, StatusReport, StepContext, Target, TargetContext } from "./target";

export { type ComposeSettings, publishedUrl };

/** True when something on this machine holds a listener on 127.0.0.1:port. */
function portTaken(port: number): boolean {
  try {
    Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
    return false;
  } catch {
    return true;
  }
}

export class ComposeTarget implements Target {
  readonly kind = "compose";
  readonly historyFields = {};
  readonly undo = null;
  readonly stateDir: string;
  private readonly stack: ComposeStack;

  constructor(
    private readonly ctx: TargetContext,
    settings: ComposeSettings,
  ) {
    this.stateDir = ctx.stateDir;
    const state = new StateDir(ctx.stateDir, ctx.stateRoot);
    this.stack = new ComposeStack(ctx.project, settings, state, ctx.io, ctx.progress);
  }

  async dryRun(plan: Plan): Promise<DryRun> {
    return { text: describePlan(plan), json: {} };
  }

  async preflight(plan: Plan): Promise<void> {
    await this.ctx.progress.step("check Docker engine and Compose", async () => {
      await requireEngine();
      const { command, version } = await this.stack.detect();
      this.ctx.progress.note(`compose: ${command.join(" ")} ${version}`);
    });
    await this.checkPort(plan.port);
  }

  /**
   * Fails (exit 1, nothing changed) when the port service2 should publish is held by anything but
   * this project's own service2: Compose would otherwise stop the running service2 and then fail
   * to start the new one, leaving the stack without its entry point.
   */
  private async checkPort(port: number): Promise<void> {
    if (port === 0) return;
    const ours = (await this.stack.containers("service2")).some((c) => publishedUrl(c) === `http://127.0.0.1:${port}`);
    if (ours || !portTaken(port)) return;
    const other = await timekitProjectOn(port);
    if (other !== null) {
      throw new DeployError(
        `port ${port} on 127.0.0.1 is in use by service2 of another timekit stack, Compose project "${other}", so this project's service2 cannot be published there`,
        ExitCode.failed,
        `remove that stack (bun deploy.ts down --project=${other}) or pass --port=<free port> (--port=0 lets the engine pick)`,
      );
    }
    throw new DeployError(
      `port ${port} on 127.0.0.1 is in use by another program, so service2 cannot be published there`,
      ExitCode.failed,
      `stop what listens on it (see \`ss -ltnp 'sport = :${port}'\`) or pass --port=<free port> (--port=0 lets the engine pick)`,
    );
  }

  async resolveImages(plan: Plan): Promise<Plan> {
    const services = { ...plan.services };
    const { progress } = this.ctx;
    for (const service of SERVICES) {
      const s = plan.services[service];
      const resolved = await progress.step(
        `${service} ${s.version}: ${s.source.kind === "build" ? "build" : "resolve"} image`,
        () => resolveImage(s, (line) => progress.note(line)),
        `${service}.image`,
      );
      progress.note(`${service}: ${resolved.image} (${resolved.digest})`);
      services[service] = resolved;
    }
    return { ...plan, services };
  }

  async steps(plan: Plan, previous: LastGood): Promise<ServiceName[][]> {
    const steps: ServiceName[][] = [];
    for (const service of SERVICES) {
      const desired = plan.services[service];
      const now = await this.stack.containers(service, true);
      const portMoved =
        service === "service2" &&
        plan.port !== 0 &&
        now.some((c) => isRunning(c) && publishedUrl(c) !== `http://127.0.0.1:${plan.port}`);
      const upToDate =
        !serviceChanged(previous.states[service], desired) &&
        !portMoved &&
        now.length === desired.replicas &&
        now.every((c) => c.image === desired.image && isRunning(c));
      if (upToDate) this.ctx.progress.note(`${service}: unchanged (${desired.version}), not restarted`);
      else steps.push([service]);
    }
    return steps;
  }

  rollout(plan: Plan, step: ServiceName[], context: StepContext, previous: LastGood): Rollout {
    const [service] = step as [ServiceName];
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
    return new ComposeRollout(this.stack, record, context, true);
  }

  async summary(state: Record<ServiceName, ServiceState>): Promise<string> {
    const url = await this.stack.url();
    return `service1 ${state.service1.version} x${state.service1.replicas}, service2 ${state.service2.version}${url ? ` at ${url}` : ""}`;
  }

  async status(lastGood: LastGood): Promise<StatusReport> {
    await requireEngine();
    const services = {} as Record<ServiceName, ReturnType<typeof composeServiceStatus>>;
    for (const service of SERVICES) {
      services[service] = composeServiceStatus(
        await this.stack.containers(service, true),
        lastGood.states[service],
        service,
      );
    }
    return { project: this.ctx.project, services };
  }

  async platformHistory(): Promise<string | null> {
    return null;
  }

  async down(options: { volumes: boolean; lastGood: LastGood }): Promise<void> {
    await requireEngine();
    if (!this.stack.command) await this.stack.detect();
    const placeholder: ServiceState = { version: "-", image: "-", digest: null, replicas: 0, env: {} };
    this.stack.write(
      perService((service) => options.lastGood.states[service] ?? placeholder),
      options.lastGood.port ?? DEFAULT_PORT,
    );
    await this.ctx.progress.step(`remove project ${this.ctx.project}`, async () => {
      for (const service of SERVICES) await retireContainers(await this.stack.canaryIds(service));
      await this.stack.compose((p) => composeArgv.down(p, options.volumes), "compose down");
    });
  }
}

/** The Compose project whose running timekit service2 publishes `port` on 127.0.0.1, if one does. */
async function timekitProjectOn(port: number): Promise<string | null> {
  const ids = await containersLabelled({ "org.opencontainers.image.title": "timekit-service2" }, false);
  const holder = (await inspectContainers(ids)).find((c) => publishedUrl(c) === `http://127.0.0.1:${port}`);
  return holder?.labels["com.docker.compose.project"] ?? null;
}
