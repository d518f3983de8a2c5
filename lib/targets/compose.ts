/**
 * Over 250 lines on purpose: one driver, whose rollout, restore and status share private helpers.
 *
 * The Compose target: the project's compose.yaml plus an override this CLI writes (image and
 * settings of each service), replica counts through `--scale`, services started one at a time
 * with `--no-deps` so an unchanged service is never restarted. service1 is replaced without a gap:
 * new replicas beside the old, gated, then the old retired.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { verifyEndToEnd } from "../deploy/gate";
import type { LastGood } from "../deploy/history";
import {
  describePlan,
  type Plan,
  type ServiceState,
  type ServiceStatus,
  serviceChanged,
  stateOf,
} from "../deploy/plan";
import { DeployError, ExitCode, errorText, GateFailed, lastLines } from "../errors";
import { run } from "../exec";
import {
  type ContainerInfo,
  containerDiagnostics,
  containersLabelled,
  inspectContainers,
  requireEngine,
  retireContainers,
} from "../images/docker";
import { resolveImage } from "../images/resolve";
import { CONTAINER_PORT, DEFAULT_PORT } from "../limits";
import { REPO_ROOT } from "../paths";
import { perService, SERVICES, type ServiceName } from "../services";
import { type ComposeProject, composeArgv, composeVariables } from "./compose-argv";
import type { DryRun, Restored, Rollout, StatusReport, Target, TargetContext } from "./target";

export interface ComposeSettings {
  composeFile: string;
  /** TIMEKIT_COMPOSE: a Compose command to use instead of detecting one. */
  forcedCommand?: string | undefined;
}

/** `http://127.0.0.1:PORT` where a container publishes its service port, if it does. */
export function publishedUrl(container: ContainerInfo): string | null {
  const binding = container.ports[`${CONTAINER_PORT}/tcp`]?.find((b) => b.HostPort);
  if (!binding) return null;
  const host = binding.HostIp && binding.HostIp !== "0.0.0.0" && binding.HostIp !== "::" ? binding.HostIp : "127.0.0.1";
  return `http://${host}:${binding.HostPort}`;
}

/** True when something on this machine holds a listener on 127.0.0.1:port. */
function portTaken(port: number): boolean {
  try {
    Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
    return false;
  } catch {
    return true;
  }
}

const running = (c: ContainerInfo) => c.status === "running";
const healthy = (c: ContainerInfo) => running(c) && (c.health ?? "healthy") === "healthy";

export class ComposeTarget implements Target {
  readonly kind = "compose";
  readonly historyFields = {};
  readonly undo = null;
  readonly stateDir: string;
  private readonly overrideFile: string;
  private command: string[] | undefined;

  constructor(
    private readonly ctx: TargetContext,
    private readonly settings: ComposeSettings,
  ) {
    this.stateDir = ctx.stateDir;
    this.overrideFile = join(ctx.stateDir, "compose.override.yaml");
  }

  async dryRun(plan: Plan): Promise<DryRun> {
    return { text: describePlan(plan), json: {} };
  }

  async preflight(plan: Plan): Promise<void> {
    await this.ctx.progress.step("check Docker engine and Compose", async () => {
      await requireEngine();
      const { command, version } = await this.detect();
      this.ctx.progress.note(`compose: ${command.join(" ")} ${version}`);
    });
    await this.checkPort(plan.port);
  }

  /** `["docker","compose"]` or `["docker-compose"]`, whichever answers (v2 preferred). */
  private async detect(): Promise<{ command: string[]; version: string }> {
    const forced = this.settings.forcedCommand?.trim();
    const candidates = forced ? [forced.split(/\s+/)] : [["docker", "compose"], ["docker-compose"]];
    for (const command of candidates) {
      const out = await run(composeArgv.version(command), { timeoutMs: 15_000 });
      if (out.exitCode === 0 && /^v?\d/.test(out.stdout.trim())) {
        this.command = command;
        return { command, version: out.stdout.trim() };
      }
    }
    throw new DeployError(
      forced ? `TIMEKIT_COMPOSE="${forced}" does not run Docker Compose` : "Docker Compose is not installed",
      ExitCode.failed,
      "install the Compose v2 plugin (`docker compose`) or docker-compose 1.29 (`apt-get install docker-compose`)",
    );
  }

  /**
   * Fails (exit 1, nothing changed) when the port service2 should publish is held by anything but
   * this project's own service2: Compose would otherwise stop the running service2 and then fail
   * to start the new one, leaving the stack without its entry point.
   */
  private async checkPort(port: number): Promise<void> {
    if (port === 0) return;
    const ours = (await this.containers("service2")).some((c) => publishedUrl(c) === `http://127.0.0.1:${port}`);
    if (ours || !portTaken(port)) return;
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
      const now = await this.containers(service);
      const upToDate =
        !serviceChanged(previous.states[service], desired) &&
        now.length === desired.replicas &&
        now.every((c) => c.image === desired.image && running(c));
      if (upToDate) this.ctx.progress.note(`${service}: unchanged (${desired.version}), not restarted`);
      else steps.push([service]);
    }
    return steps;
  }

  rollout(plan: Plan, step: ServiceName[], current: Record<ServiceName, ServiceState>, previous: LastGood): Rollout {
    const [service] = step as [ServiceName];
    const desired = stateOf(plan.services[service]);
    const timeoutMs = plan.gate.timeoutMs;
    const { progress } = this.ctx;
    let surge: { old: string[]; fresh: string[] } | null = null;
    return {
      apply: async () => {
        this.write({ ...current, [service]: desired }, plan.port);
        const isRunning = (await this.containerIds(service)).length > 0;
        if (service === "service1" && isRunning) {
          surge = await progress.step(`service1 ${desired.version}: start ${desired.replicas} new beside old`, () =>
            this.surge("service1", desired.replicas),
          );
        } else {
          await progress.step(`${service} ${desired.version}: start ${desired.replicas} container(s)`, () =>
            this.compose(composeArgv.up(this.project(), service, desired.replicas), `starting ${service}`),
          );
        }
      },
      verify: async () => {
        const ids = surge ? surge.fresh : await this.containerIds(service);
        try {
          await progress.step(`${service} ${desired.version}: wait for health`, () => this.waitHealthy(ids, timeoutMs));
          await this.verifyThroughService2(service, timeoutMs);
        } catch (error) {
          if (!(error instanceof GateFailed)) throw error;
          throw new GateFailed(error.message, error.diagnostics || (await containerDiagnostics(ids)));
        }
      },
      finish: async () => {
        const retired = surge?.old ?? [];
        if (retired.length > 0) {
          await progress.step(`service1: retire ${retired.length} old container(s)`, () => retireContainers(retired));
        }
      },
      restore: async () => {
        // The old replicas of a surge never stopped: drop the new ones and the stack is as before.
        if (surge) await retireContainers(surge.fresh);
        return this.restore(plan, service, previous.states[service], current);
      },
    };
  }

  /** Puts `service` back at `prev` (or removes it when it never ran well), then verifies again. */
  private async restore(
    plan: Plan,
    service: ServiceName,
    prev: ServiceState | null,
    current: Record<ServiceName, ServiceState>,
  ): Promise<Restored> {
    const { progress } = this.ctx;
    try {
      if (!prev) {
        await progress.step(`${service}: no earlier good version, removing it`, async () =>
          retireContainers(await this.containerIds(service, true)),
        );
        return {
          ok: true,
          message: `${service} had no earlier good version; its containers were removed`,
          states: { [service]: { ...current[service], replicas: 0 } },
        };
      }
      const now = await this.containers(service);
      const alreadyBack = now.length === prev.replicas && now.every((c) => c.image === prev.image && running(c));
      this.write({ ...current, [service]: prev }, plan.port);
      if (!alreadyBack) {
        await progress.step(`${service}: restore ${prev.version}`, () =>
          this.compose(composeArgv.up(this.project(), service, prev.replicas), `restoring ${service}`),
        );
      }
      const ids = await this.containerIds(service);
      await progress.step(`${service} ${prev.version}: wait for health`, () =>
        this.waitHealthy(ids, plan.gate.timeoutMs),
      );
      await this.verifyThroughService2(service, plan.gate.timeoutMs);
      return {
        ok: true,
        message: `${service} is back at ${prev.version} x${prev.replicas}`,
        states: { [service]: prev },
      };
    } catch (error) {
      return { ok: false, message: errorText(error), states: {} };
    }
  }

  /** The request through service2, when service2 runs; service2 itself must publish its port. */
  private async verifyThroughService2(service: ServiceName, timeoutMs: number): Promise<void> {
    if ((await this.url()) === null) {
      if (service === "service2") throw new GateFailed("service2 publishes no port on 127.0.0.1");
      return;
    }
    await this.ctx.progress.step("verify a request through service2 reaches service1", () =>
      verifyEndToEnd(async () => (await this.url()) ?? { unreachable: "service2 is not running" }, timeoutMs),
    );
  }

  async summary(state: Record<ServiceName, ServiceState>): Promise<string> {
    const url = await this.url();
    return `service1 ${state.service1.version} x${state.service1.replicas}, service2 ${state.service2.version}${url ? ` at ${url}` : ""}`;
  }

  async status(lastGood: LastGood): Promise<StatusReport> {
    await requireEngine();
    const services = {} as Record<ServiceName, ServiceStatus>;
    for (const service of SERVICES) {
      const containers = await this.containers(service, true);
      const up = containers.filter(running);
      const fine = up.filter(healthy);
      const first = up[0] ?? containers[0];
      const known = lastGood.states[service];
      const image = first?.image ?? null;
      const matches = known !== null && known.image === image;
      services[service] = {
        version: matches ? known.version : (first?.labels["org.opencontainers.image.version"] ?? null),
        image,
        digest: matches ? known.digest : (first?.imageId ?? null),
        replicas: up.length,
        health:
          containers.length === 0
            ? "down"
            : fine.length === containers.length
              ? "healthy"
              : fine.length === 0
                ? (first?.health ?? first?.status ?? "down")
                : `degraded (${fine.length}/${containers.length} healthy)`,
        url: up.map(publishedUrl).find((u) => u !== null) ?? null,
      };
    }
    return { project: this.ctx.project, services };
  }

  async platformHistory(): Promise<string | null> {
    return null;
  }

  async down(options: { volumes: boolean; lastGood: LastGood }): Promise<void> {
    await requireEngine();
    if (!this.command) await this.detect();
    const placeholder: ServiceState = { version: "-", image: "-", digest: null, replicas: 0, env: {} };
    this.write(
      perService((service) => options.lastGood.states[service] ?? placeholder),
      options.lastGood.port ?? DEFAULT_PORT,
    );
    await this.ctx.progress.step(`remove project ${this.ctx.project}`, () =>
      this.compose(composeArgv.down(this.project(), options.volumes), "compose down"),
    );
  }

  /* ---------------------------------------------------------------- helpers */

  private port = DEFAULT_PORT;

  /** Writes the override for the whole desired state (Compose always reads both services). */
  private write(state: Record<ServiceName, ServiceState>, port: number): void {
    mkdirSync(this.stateDir, { recursive: true });
    const services = Object.fromEntries(
      Object.entries(state).map(([name, s]) => [name, { image: s.image, environment: s.env }]),
    );
    writeFileSync(
      this.overrideFile,
      `# Written by deploy.ts for project ${this.ctx.project}; rewritten on every deploy.\n${YAML.stringify({ services })}`,
    );
    this.port = port;
  }

  private project(): ComposeProject {
    return {
      command: this.command ?? ["docker", "compose"],
      project: this.ctx.project,
      directory: REPO_ROOT,
      files: [this.settings.composeFile, this.overrideFile],
    };
  }

  private async compose(argv: string[], what: string): Promise<void> {
    const out = await run(argv, { env: { ...this.ctx.io.env, ...composeVariables(this.port) }, timeoutMs: 300_000 });
    if (out.exitCode === 0) return;
    const detail = lastLines(out, 5).join("\n    ");
    throw new DeployError(
      `${what} failed (compose exit ${out.exitCode ?? "timeout"}):\n    ${detail}`,
      ExitCode.failed,
      /port is already allocated|address already in use/i.test(detail)
        ? "the published port is in use: stop what holds it or pass --port=<free port>"
        : undefined,
    );
  }

  private async surge(service: ServiceName, replicas: number): Promise<{ old: string[]; fresh: string[] }> {
    const old = await this.containerIds(service, true);
    await this.compose(
      composeArgv.surge(this.project(), service, old.length + replicas),
      `starting new ${service} containers`,
    );
    const now = await this.containerIds(service, true);
    return { old, fresh: now.filter((id) => !old.includes(id)) };
  }

  private containerIds(service: ServiceName, all = false): Promise<string[]> {
    return containersLabelled(composeArgv.labels(this.ctx.project, service), all);
  }

  private async containers(service: ServiceName, all = false): Promise<ContainerInfo[]> {
    return inspectContainers(await this.containerIds(service, all));
  }

  private async url(): Promise<string | null> {
    const [service2] = await this.containers("service2");
    return service2 && running(service2) ? publishedUrl(service2) : null;
  }

  /** Waits until every container is healthy; fails early when one exits or turns unhealthy. */
  private async waitHealthy(ids: string[], timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const containers = await inspectContainers(ids);
      // "restarting": the process exited and the restart policy is at it again.
      const bad = containers.find(
        (c) => c.health === "unhealthy" || ["exited", "dead", "restarting"].includes(c.status),
      );
      if (bad) {
        throw new GateFailed(
          `${bad.name} is ${bad.health === "unhealthy" ? "unhealthy" : `${bad.status} (exit code ${bad.exitCode})`}`,
        );
      }
      if (containers.length === ids.length && containers.every(healthy)) return;
      if (performance.now() > deadline) {
        const waiting = containers
          .filter((c) => c.health !== "healthy")
          .map((c) => `${c.name} (${c.health ?? c.status})`);
        throw new GateFailed(`not healthy after ${Math.round(timeoutMs / 1000)}s: ${waiting.join(", ")}`);
      }
      await Bun.sleep(200);
    }
  }
}
