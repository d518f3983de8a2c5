/**
 * The Compose target: runs a plan with the project's compose.yaml plus an override file this CLI
 * writes (image, settings), replica counts through `--scale`, and services started one at a time
 * with `--no-deps` so an unchanged service is never restarted.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { type ContainerInfo, compose, inspectContainers, requireEngine, run } from "../docker";
import { DeployError, ExitCode } from "../errors";
import type { ServiceName } from "../params";
import type { ServiceState } from "../plan";
import { probeThroughService2 } from "../probe";
import { PROJECT_ROOT } from "../state";

/** Port each service listens on inside its container. */
const CONTAINER_PORT = "8080/tcp";

export class ComposeTarget {
  readonly overrideFile: string;
  readonly composeFile: string;

  constructor(
    readonly project: string,
    readonly stateDir: string,
  ) {
    this.overrideFile = join(stateDir, "compose.override.yaml");
    this.composeFile = Bun.env.TIMEKIT_COMPOSE_FILE || join(PROJECT_ROOT, "compose.yaml");
  }

  /** Interpolation variables compose.yaml reads (see compose.yaml). */
  private env(state: Partial<Record<ServiceName, ServiceState>>, port: number): Record<string, string> {
    const env: Record<string, string> = { SERVICE2_PORT: String(port), TIMEKIT_PORT: String(port) };
    for (const [name, s] of Object.entries(state)) {
      if (!s) continue;
      env[`${name.toUpperCase()}_VERSION`] = s.version;
      env[`${name.toUpperCase()}_IMAGE`] = s.image;
    }
    return env;
  }

  private lastEnv: Record<string, string> = {};

  /** Writes the override for the whole desired state (Compose always reads both services). */
  write(state: Record<ServiceName, ServiceState>, port: number): void {
    mkdirSync(this.stateDir, { recursive: true });
    const services: Record<string, unknown> = {};
    for (const [name, s] of Object.entries(state)) {
      services[name] = { image: s.image, environment: s.env };
    }
    writeFileSync(
      this.overrideFile,
      `# Written by deploy.ts for project ${this.project}; rewritten on every deploy.\n${YAML.stringify({ services })}`,
    );
    this.lastEnv = this.env(state, port);
  }

  private async compose(args: string[], timeoutMs = 300_000) {
    await requireEngine();
    const cmd = await compose();
    return run(
      [
        ...cmd,
        "--project-name",
        this.project,
        "--project-directory",
        PROJECT_ROOT,
        "-f",
        this.composeFile,
        "-f",
        this.overrideFile,
        ...args,
      ],
      { env: this.lastEnv, timeoutMs },
    );
  }

  private async composeOk(args: string[], what: string): Promise<void> {
    const out = await this.compose(args);
    if (out.exitCode !== 0) {
      const detail = `${out.stderr}${out.stdout}`.trim().split("\n").slice(-5).join("\n    ");
      const portBusy = /port is already allocated|address already in use/i.test(detail);
      throw new DeployError(
        `${what} failed (compose exit ${out.exitCode}):\n    ${detail}`,
        ExitCode.failed,
        portBusy ? "the published port is in use: stop what holds it or pass --port=<free port>" : undefined,
      );
    }
  }

  /** Container ids of a service (running or not), oldest first. */
  async containerIds(service: ServiceName, all = false): Promise<string[]> {
    await requireEngine();
    const out = await run([
      "docker",
      "ps",
      ...(all ? ["-a"] : []),
      "-q",
      "--no-trunc",
      "--filter",
      `label=com.docker.compose.project=${this.project}`,
      "--filter",
      `label=com.docker.compose.service=${service}`,
    ]);
    return out.stdout.split("\n").filter(Boolean).reverse();
  }

  async containers(service: ServiceName, all = false): Promise<ContainerInfo[]> {
    return inspectContainers(await this.containerIds(service, all));
  }

  /** Starts (or recreates) one service at `replicas`, leaving the other alone. */
  async up(service: ServiceName, replicas: number): Promise<void> {
    await this.composeOk(
      ["up", "-d", "--no-deps", "--no-build", "--scale", `${service}=${replicas}`, service],
      `starting ${service}`,
    );
  }

  /**
   * Replaces a service's containers without a gap: start the new ones next to the old ones
   * (`--no-recreate` keeps the old), and return both sets; the caller gates the new ones and then
   * calls `retire` on whichever set lost.
   */
  async surge(service: ServiceName, replicas: number): Promise<{ old: string[]; fresh: string[] }> {
    const old = await this.containerIds(service, true);
    await this.composeOk(
      [
        "up",
        "-d",
        "--no-deps",
        "--no-build",
        "--no-recreate",
        "--scale",
        `${service}=${old.length + replicas}`,
        service,
      ],
      `starting new ${service} containers`,
    );
    const now = await this.containerIds(service, true);
    return { old, fresh: now.filter((id) => !old.includes(id)) };
  }

  /** Stops (SIGTERM, drain) and removes containers. */
  async retire(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await run(["docker", "stop", ...ids], { timeoutMs: 120_000 });
    await run(["docker", "rm", "-f", ...ids], { timeoutMs: 60_000 });
  }

  async down(volumes: boolean): Promise<void> {
    await this.composeOk(["down", "--remove-orphans", ...(volumes ? ["--volumes"] : [])], "compose down");
  }

  /** `http://127.0.0.1:PORT` where a container publishes its service port, if it does. */
  static url(container: ContainerInfo): string | null {
    const binding = container.ports[CONTAINER_PORT]?.find((b) => b.HostPort);
    if (!binding) return null;
    const host =
      binding.HostIp && binding.HostIp !== "0.0.0.0" && binding.HostIp !== "::" ? binding.HostIp : "127.0.0.1";
    return `http://${host}:${binding.HostPort}`;
  }

  /** Waits until every container is healthy; fails early when one exits or turns unhealthy. */
  async waitHealthy(ids: string[], timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const containers = await inspectContainers(ids);
      // "restarting": the process exited and the restart policy is at it again.
      const bad = containers.find(
        (c) => c.health === "unhealthy" || c.status === "exited" || c.status === "dead" || c.status === "restarting",
      );
      if (bad) {
        throw new GateError(
          `${bad.name} is ${bad.health === "unhealthy" ? "unhealthy" : `${bad.status} (exit code ${bad.exitCode})`}`,
          containers.map((c) => c.id),
        );
      }
      if (
        containers.length === ids.length &&
        containers.every((c) => c.status === "running" && (c.health ?? "healthy") === "healthy")
      ) {
        return;
      }
      if (performance.now() > deadline) {
        const waiting = containers
          .filter((c) => c.health !== "healthy")
          .map((c) => `${c.name} (${c.health ?? c.status})`);
        throw new GateError(`not healthy after ${Math.round(timeoutMs / 1000)}s: ${waiting.join(", ")}`, ids);
      }
      await Bun.sleep(200);
    }
  }

  /** Logs and health-check log of containers, for the user to see why a gate failed. */
  async diagnostics(ids: string[]): Promise<string> {
    const parts: string[] = [];
    for (const c of await inspectContainers(ids)) {
      const logs = await run(["docker", "logs", "--tail", "20", c.id]);
      const health = await run(["docker", "inspect", "--format", "{{json .State.Health}}", c.id]);
      parts.push(
        `--- ${c.name} (${c.status}${c.health ? `, ${c.health}` : ""}) last log lines:`,
        `${logs.stdout}${logs.stderr}`.trim() || "(no output)",
        `--- ${c.name} health log: ${health.stdout.trim()}`,
      );
    }
    return parts.join("\n");
  }
}

/** A health gate failure: the containers involved are attached for diagnostics. */
export class GateError extends Error {
  constructor(
    message: string,
    readonly containerIds: string[],
    /** Logs and health log, captured before the containers were removed. */
    readonly diagnostics?: string,
  ) {
    super(message);
    this.name = "GateError";
  }
}

/**
 * The end-to-end check: a request to service2's published port whose answer needs service1.
 * Retries until `timeoutMs` (service2 may still be resolving new service1 addresses).
 */
export async function verifyEndToEnd(baseUrl: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < deadline) {
    const probe = await probeThroughService2(baseUrl);
    if (probe.ok) return;
    last = probe.detail;
    await Bun.sleep(250);
  }
  throw new GateError(
    `no answer through service2 reached service1 within ${Math.round(timeoutMs / 1000)}s (last: ${last})`,
    [],
  );
}
