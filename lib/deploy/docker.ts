/**
 * The Docker engine and Compose, driven through zx. Compose v2 (`docker compose`) and v1.29
 * (`docker-compose`) are detected, not assumed; TIMEKIT_COMPOSE="docker-compose" forces one.
 */
import { $, type ProcessOutput } from "zx";
import { DeployError, ExitCode } from "./errors";

$.verbose = false;
$.quiet = true;

export { $ };

export async function run(cmd: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}) {
  const [bin, ...rest] = cmd;
  const p = $({
    env: { ...process.env, ...opts.env },
    nothrow: true,
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
  })`${bin} ${rest}`;
  return (await p) as ProcessOutput;
}

let engineChecked = false;
export async function requireEngine(): Promise<void> {
  if (engineChecked) return;
  const out = await run(["docker", "version", "--format", "{{.Server.Version}}"], { timeoutMs: 15_000 });
  if (out.exitCode !== 0) {
    const detail = out.stderr.trim().split("\n").pop() ?? "";
    throw new DeployError(
      `no Docker engine answers${detail ? ` (${detail})` : ""}`,
      ExitCode.failed,
      "start the Docker daemon (e.g. `dockerd &` or Docker Desktop) or point DOCKER_HOST at one",
    );
  }
  engineChecked = true;
}

let composeCmd: string[] | undefined;
/** `["docker","compose"]` or `["docker-compose"]`, whichever answers (v2 preferred). */
export async function detectCompose(): Promise<{ cmd: string[]; version: string }> {
  const forced = Bun.env.TIMEKIT_COMPOSE?.trim();
  const candidates = forced ? [forced.split(/\s+/)] : [["docker", "compose"], ["docker-compose"]];
  for (const candidate of candidates) {
    const out = await run([...candidate, "version", "--short"], { timeoutMs: 15_000 }).catch(() => null);
    if (out && out.exitCode === 0 && /^v?\d/.test(out.stdout.trim())) {
      composeCmd = candidate;
      return { cmd: candidate, version: out.stdout.trim() };
    }
  }
  throw new DeployError(
    forced ? `TIMEKIT_COMPOSE="${forced}" does not run Docker Compose` : "Docker Compose is not installed",
    ExitCode.failed,
    "install the Compose v2 plugin (`docker compose`) or docker-compose 1.29 (`apt-get install docker-compose`)",
  );
}

export async function compose(): Promise<string[]> {
  if (!composeCmd) await detectCompose();
  return composeCmd ?? [];
}

export interface ImageInfo {
  id: string;
  repoDigests: string[];
  labels: Record<string, string>;
}

export async function inspectImage(ref: string): Promise<ImageInfo | null> {
  const out = await run(["docker", "image", "inspect", "--format", "{{json .}}", ref]);
  if (out.exitCode !== 0) return null;
  const data = JSON.parse(out.stdout) as {
    Id: string;
    RepoDigests: string[] | null;
    Config?: { Labels?: Record<string, string> | null };
  };
  return { id: data.Id, repoDigests: data.RepoDigests ?? [], labels: data.Config?.Labels ?? {} };
}

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  imageId: string;
  status: string;
  health: string | null;
  exitCode: number;
  env: string[];
  ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
  labels: Record<string, string>;
}

export async function inspectContainers(ids: string[]): Promise<ContainerInfo[]> {
  if (ids.length === 0) return [];
  const out = await run(["docker", "inspect", "--format", "{{json .}}", ...ids]);
  return out.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line) => {
      const c = JSON.parse(line) as {
        Id: string;
        Name: string;
        Image: string;
        Config: { Image: string; Env: string[] | null; Labels: Record<string, string> | null };
        State: { Status: string; ExitCode: number; Health?: { Status: string } };
        NetworkSettings: { Ports: ContainerInfo["ports"] | null };
      };
      return {
        id: c.Id,
        name: c.Name.replace(/^\//, ""),
        image: c.Config.Image,
        imageId: c.Image,
        status: c.State.Status,
        health: c.State.Health?.Status ?? null,
        exitCode: c.State.ExitCode,
        env: c.Config.Env ?? [],
        ports: c.NetworkSettings.Ports ?? {},
        labels: c.Config.Labels ?? {},
      };
    });
}
