/**
 * Over 250 lines on purpose: the one place that knows a project's files, Compose command and
 * containers; the rollout, status and down all read the stack through it.
 *
 * One Compose project as the Compose target sees it: the files this CLI writes for it (the
 * override naming each service's image, settings and limits; the environment file holding the
 * only interpolation variable it sets), the Compose command with a minimal environment, the
 * project's containers, and the checks a rollout runs on them (health, `--probe` by `docker exec`,
 * requests through service2's published port).
 */
import { dirname, join } from "node:path";
import YAML from "yaml";
import { judgeProbe, type ProbeVerdict, probeCommand, verifyEndToEnd } from "../deploy/gate";
import { backoff, pause } from "../deploy/interrupt";
import { DEFAULT_LIMITS, type ServiceState } from "../deploy/plan";
import { processesWithArgs } from "../deploy/processes";
import type { Progress } from "../deploy/progress";
import type { StateDir } from "../deploy/state-dir";
import { DeployError, ExitCode, GateFailed, lastLines } from "../errors";
import { run } from "../exec";
import { type ContainerInfo, containersLabelled, inspectContainers } from "../images/docker";
import type { Io } from "../io";
import { CONTAINER_PORT } from "../limits";
import { REPO_ROOT } from "../paths";
import type { ServiceName } from "../services";
import { effectiveSettings } from "../settings";
import {
  type ComposeProject,
  type ComposeService,
  composeArgv,
  composeEnvFile,
  composeEnvironment,
  composeLiteral,
  SERVICE_LABEL,
} from "./compose-argv";

/** Compose v1's error for a container it listed and could no longer inspect. */
const VANISHED_CONTAINER = /No such container: [0-9a-f]{12,64}/;

export const OVERRIDE_FILE = "compose.override.yaml";
export const ENV_FILE = "compose.env";

/** `http://127.0.0.1:PORT` where a container publishes its service port, if it does. */
export function publishedUrl(container: ContainerInfo): string | null {
  const binding = container.ports[`${CONTAINER_PORT}/tcp`]?.find((b) => b.HostPort);
  if (!binding) return null;
  const host = binding.HostIp && binding.HostIp !== "0.0.0.0" && binding.HostIp !== "::" ? binding.HostIp : "127.0.0.1";
  return `http://${host}:${binding.HostPort}`;
}

export const isRunning = (c: ContainerInfo) => c.status === "running";
export const isHealthy = (c: ContainerInfo) => isRunning(c) && (c.health ?? "healthy") === "healthy";

/** Where clients reach service2 in a snapshot: a running edge's published port, else service2's own. */
export function frontUrl(containers: Record<ComposeService, ContainerInfo[]>): string | null {
  for (const service of ["edge", "service2"] as const) {
    const url = containers[service]
      .filter(isRunning)
      .map(publishedUrl)
      .find((u) => u !== null);
    if (url) return url;
  }
  return null;
}

/** The override file's text for the whole stack (Compose always reads every service). */
export function overrideText(project: string, state: Record<ServiceName, ServiceState>): string {
  const services: Record<string, unknown> = Object.fromEntries(
    Object.entries(state).map(([name, s]) => {
      const limits = s.limits ?? DEFAULT_LIMITS;
      const env = effectiveSettings(name as ServiceName, s.env);
      return [
        name,
        {
          image: composeLiteral(s.image),
          environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, composeLiteral(v)])),
          mem_limit: limits.memory,
          memswap_limit: limits.memory,
          cpus: limits.cpus,
        },
      ];
    }),
  );
  const edge = state.service2.edge;
  if (edge) services.edge = { image: composeLiteral(edge.image) };
  return `# Written by deploy.ts for project ${project}; rewritten on every deploy.\n${YAML.stringify({ services })}`;
}

/** Added after compose.yaml when service2 publishes the port itself (no edge). */
export const DIRECT_FILE = "compose.direct.yaml";

export interface ComposeSettings {
  composeFile: string;
  /** TIMEKIT_COMPOSE: a Compose command to use instead of detecting one. */
  forcedCommand?: string | undefined;
  /** TIMEKIT_EDGE_CONFIG: the Caddyfile built into the edge image (default edge/Caddyfile). */
  edgeConfig?: string | undefined;
}

export class ComposeStack {
  /** Set once `ready` has found the Compose command. */
  private command: string[] | undefined;
  /** Whether the files last written put the edge in front of service2 (else compose.direct.yaml). */
  private edge = true;

  constructor(
    readonly project: string,
    private readonly settings: ComposeSettings,
    readonly state: StateDir,
    private readonly io: Io,
    readonly progress: Progress,
  ) {}

  /** The detection under way or done (see `startDetecting`). */
  private detection: Promise<{ command: string[]; version: string }> | undefined;

  /**
   * Starts asking which Compose command answers, without waiting: docker-compose 1.29, a Python
   * program, takes most of a second to print its version, which the deploy spends resolving images
   * and reading what runs. A deploy that changes nothing never waits for it.
   */
  startDetecting(): void {
    if (this.detection) return;
    this.detection = this.detect();
    // Awaited by `ready`; a failure is reported there, not as an unhandled rejection.
    this.detection.catch(() => {});
  }

  /** The Compose command, once detected (a DeployError when none answers). */
  async ready(): Promise<{ command: string[]; version: string }> {
    this.startDetecting();
    const found = await (this.detection as Promise<{ command: string[]; version: string }>);
    if (!this.command) this.progress.note(`compose: ${found.command.join(" ")} ${found.version}`);
    this.command = found.command;
    return found;
  }

  /** `["docker","compose"]` or `["docker-compose"]`, whichever answers (v2 preferred). */
  private async detect(): Promise<{ command: string[]; version: string }> {
    const forced = this.settings.forcedCommand?.trim();
    const candidates = forced ? [forced.split(/\s+/)] : [["docker", "compose"], ["docker-compose"]];
    // Asked at once (docker-compose, a Python program, takes a second to answer); v2 wins.
    const answers = await Promise.all(
      candidates.map((command) => run(composeArgv.version(command), { env: this.env(), timeoutMs: 15_000 })),
    );
    for (const [i, command] of candidates.entries()) {
      const out = answers[i];
      if (out?.exitCode === 0 && /^v?\d/.test(out.stdout.trim())) return { command, version: out.stdout.trim() };
    }
    throw new DeployError(
      forced ? `TIMEKIT_COMPOSE="${forced}" does not run Docker Compose` : "Docker Compose is not installed",
      ExitCode.failed,
      "install the Compose v2 plugin (`docker compose`) or docker-compose 1.29 (`apt-get install docker-compose`)",
    );
  }

  /** What Compose runs with: the Docker client's variables only (see composeEnvironment). */
  private env(): Record<string, string> {
    return composeEnvironment(this.io.env);
  }

  private composeProject(): ComposeProject {
    return {
      command: this.command ?? ["docker", "compose"],
      project: this.project,
      directory: REPO_ROOT,
      files: [
        this.settings.composeFile,
        ...(this.edge ? [] : [join(dirname(this.settings.composeFile), DIRECT_FILE)]),
        this.state.file(OVERRIDE_FILE),
      ],
      envFile: this.state.file(ENV_FILE),
    };
  }

  /** Writes the override and the environment file for `state` (each in one fsync'd step). */
  write(state: Record<ServiceName, ServiceState>, port: number): void {
    this.edge = state.service2.edge !== undefined;
    this.state.write(OVERRIDE_FILE, overrideText(this.project, state));
    this.state.write(ENV_FILE, composeEnvFile(port));
  }

  /**
   * Runs one Compose command. One that converges (up, down: running it again is safe) runs once
   * more when Compose v1 lost a container between listing and inspecting it: any container of the
   * engine removed at that moment (another project's canary, say) fails the whole command.
   */
  async compose(argv: (p: ComposeProject) => string[], what: string): Promise<void> {
    await this.ready();
    const project = this.composeProject();
    const command = argv(project);
    let out = await run(command, { env: this.env(), timeoutMs: 300_000 });
    if (
      out.exitCode !== 0 &&
      composeArgv.converges(project, command) &&
      VANISHED_CONTAINER.test(`${out.stdout}\n${out.stderr}`)
    ) {
      this.progress.warn(
        `${what}: Compose lost a container that was removed while it read the engine; running it again`,
      );
      out = await run(command, { env: this.env(), timeoutMs: 300_000 });
    }
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

  /**
   * Every container of the project's services (no canaries), by service, oldest first, from one
   * engine query; `all` includes stopped ones.
   */
  async snapshot(all = false): Promise<Record<ComposeService, ContainerInfo[]>> {
    const found = await inspectContainers(await containersLabelled(composeArgv.projectLabels(this.project), all));
    const byService: Record<ComposeService, ContainerInfo[]> = { service1: [], service2: [], edge: [] };
    for (const c of found) byService[c.labels[SERVICE_LABEL] as ComposeService]?.push(c);
    return byService;
  }

  /** The service's own containers (no canaries), oldest first; `all` includes stopped ones. */
  containerIds(service: ComposeService, all = false): Promise<string[]> {
    return containersLabelled(composeArgv.labels(this.project, service), all);
  }

  async containers(service: ComposeService, all = false): Promise<ContainerInfo[]> {
    return inspectContainers(await this.containerIds(service, all));
  }

  /** Canary containers of the service, whatever their state. */
  canaryIds(service: ServiceName): Promise<string[]> {
    return containersLabelled(composeArgv.canaryLabels(this.project, service), true);
  }

  /** Where clients reach service2: the edge's published port, or service2's own without the edge. */
  async url(): Promise<string | null> {
    return frontUrl(await this.snapshot());
  }

  /** Waits until every container is healthy; fails early when one exits or turns unhealthy. */
  async waitHealthy(ids: string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const wait = backoff(100, 400);
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
      if (containers.length < ids.length) {
        const gone = ids.filter((id) => !containers.some((c) => c.id === id));
        throw new GateFailed(`container(s) ${gone.map((id) => id.slice(0, 12)).join(", ")} disappeared`);
      }
      if (containers.every(isHealthy)) return;
      if (performance.now() > deadline) {
        const waiting = containers.filter((c) => !isHealthy(c)).map((c) => `${c.name} (${c.health ?? c.status})`);
        throw new GateFailed(`not healthy after ${Math.round(timeoutMs / 1000)}s: ${waiting.join(", ")}`);
      }
      await pause(wait(), signal);
    }
  }

  /** `<binary> --probe=PATH` inside the container. */
  async probeOnce(id: string, service: ServiceName): Promise<ProbeVerdict> {
    const out = await run(["docker", "exec", id, ...probeCommand(service)], { timeoutMs: 15_000 });
    return judgeProbe(service, out);
  }

  /**
   * Probes one container until its real route answers well. No answer yet (still starting) is
   * retried until the deadline; answers that are wrong fail after a few in a row; a container that
   * stops running fails at once. "unsupported": the image's binary has no --probe.
   */
  async probe(
    id: string,
    service: ServiceName,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<"ok" | "unsupported"> {
    const deadline = performance.now() + timeoutMs;
    const wait = backoff(150, 600);
    let wrong = 0;
    for (;;) {
      const [container] = await inspectContainers([id]);
      if (!container || ["exited", "dead", "restarting"].includes(container.status)) {
        throw new GateFailed(`${container?.name ?? id.slice(0, 12)} stopped (${container?.status ?? "gone"})`);
      }
      const verdict = await this.probeOnce(id, service);
      if (verdict.ok === true) return "ok";
      if (verdict.ok === "unsupported") return "unsupported";
      const answered = !/got no answer|could not be run/.test(verdict.detail);
      wrong = answered ? wrong + 1 : 0;
      if (wrong >= 5 || performance.now() > deadline) {
        throw new GateFailed(`${container.name}: ${verdict.detail}`);
      }
      await pause(wait(), signal);
    }
  }

  /**
   * Waits (up to `timeoutMs`) for Compose commands of this project that another process started
   * and left running: a deploy killed with SIGKILL does not stop its children.
   */
  async waitForOrphans(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let announced = false;
    for (;;) {
      const pids = processesWithArgs(["--project-name", this.project]);
      if (pids.length === 0) return;
      if (performance.now() > deadline) {
        this.progress.warn(`Compose commands of ${this.project} still run (pids ${pids.join(", ")}); repairing anyway`);
        return;
      }
      if (!announced) {
        this.progress.note(`waiting for Compose commands the killed deploy left running (pids ${pids.join(", ")})`);
        announced = true;
      }
      await Bun.sleep(250);
    }
  }

  /**
   * Requests through service2's published port (`url`, as the caller just read it), `successes` in
   * a row. The port is looked up again only after a request failed.
   */
  async verifyThroughService2(url: string, timeoutMs: number, successes: number, signal?: AbortSignal): Promise<void> {
    let known: string | null = url;
    await verifyEndToEnd(
      async (afterFailure) => {
        if (known === null || afterFailure) known = await this.url();
        return known ?? { unreachable: "service2 is not running" };
      },
      timeoutMs,
      { successes, signal },
    );
  }
}
