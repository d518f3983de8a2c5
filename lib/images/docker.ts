/**
 * Over 250 lines on purpose: the one Docker wrapper; splitting it would bring back a second one.
 *
 * The Docker engine, the one wrapper every part of the delivery code uses: is an engine
 * answering, which client builds with BuildKit, typed reads of images and containers, and the
 * image and container operations (tag, pull, push, load, save, stop, remove). Every failure is a
 * DeployError saying what to do about it.
 */
import { DeployError, ExitCode, lastLines } from "../errors";
import { type RunOptions, type RunResult, run, runChecked } from "../exec";

const START_DAEMON =
  "start the Docker daemon (`systemctl start docker`, or `dockerd >/var/log/dockerd.log 2>&1 &` as root), " +
  "or point DOCKER_HOST at a running engine";

export type Availability = { ok: true; serverVersion: string } | { ok: false; reason: string };

/** Whether a Docker engine answers, and if not, a one-line reason. Never throws. */
export async function dockerAvailable(): Promise<Availability> {
  const out = await run(["docker", "version", "--format", "{{.Server.Version}}"], { timeoutMs: 15_000 });
  const version = out.stdout.trim();
  if (out.exitCode === 0 && version) return { ok: true, serverVersion: version };
  if (out.exitCode === 127) return { ok: false, reason: "the docker client is not installed (no `docker` on PATH)" };
  const where = Bun.env.DOCKER_HOST || "unix:///var/run/docker.sock";
  return { ok: false, reason: `no Docker engine answers at ${where} (${lastLines(out, 1)[0] ?? "no output"})` };
}

/** The server version; a DeployError naming the fix when no engine answers. */
export async function requireEngine(): Promise<string> {
  const availability = await dockerAvailable();
  if (availability.ok) return availability.serverVersion;
  throw new DeployError(availability.reason, ExitCode.failed, START_DAEMON);
}

export interface BuildKitClient {
  /** argv prefix that builds with BuildKit: followed by `[options] CONTEXT`. */
  argv: string[];
  /** Added to the environment of the build. */
  env: Record<string, string>;
  description: string;
  /** buildx can export caches (`--cache-to`); the built-in BuildKit of older clients cannot. */
  buildx: boolean;
}

let client: Promise<BuildKitClient> | undefined;

/**
 * A client whose `build` understands `RUN --mount` and `--secret`: one with the buildx plugin, or
 * a pre-23 client where BuildKit is built in behind DOCKER_BUILDKIT=1. A 23+ client without
 * buildx silently falls back to the legacy builder, which cannot build the Dockerfile, so it is
 * skipped (Debian's 20.10 client in /usr/bin is often beside a newer one in /usr/local/bin).
 */
export function buildkitClient(): Promise<BuildKitClient> {
  client ??= findBuildkitClient();
  return client;
}

async function findBuildkitClient(): Promise<BuildKitClient> {
  const buildx = await run(["docker", "buildx", "version"], { timeoutMs: 15_000 });
  if (buildx.exitCode === 0) {
    return { argv: ["docker", "buildx", "build", "--load"], env: {}, description: "docker buildx", buildx: true };
  }
  const seen: string[] = [];
  for (const candidate of ["docker", "/usr/bin/docker", "/usr/local/bin/docker"]) {
    const out = await run([candidate, "version", "--format", "{{.Client.Version}}"], { timeoutMs: 15_000 });
    const version = out.stdout.trim().split("\n")[0] ?? "";
    if (!version) continue;
    seen.push(`${candidate} ${version}`);
    if (Number.parseInt(version.replace(/^v/, ""), 10) < 23) {
      return {
        argv: [candidate, "build"],
        env: { DOCKER_BUILDKIT: "1" },
        description: `${candidate} ${version} (BuildKit)`,
        buildx: false,
      };
    }
  }
  throw new DeployError(
    `no Docker client here builds with BuildKit (found: ${seen.join(", ") || "none"}; a 23+ client needs the buildx plugin)`,
    ExitCode.failed,
    "install the buildx plugin (`apt-get install docker-buildx`, or docker-buildx-plugin from Docker's repository)",
  );
}

export interface ImageInfo {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  created: string;
  architecture: string;
  user: string;
  entrypoint: string[] | null;
  labels: Record<string, string>;
  healthcheck: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number } | null;
  stopSignal: string | null;
  exposedPorts: string[];
  env: string[];
}

interface RawImage {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Size: number;
  Created: string;
  Architecture: string;
  Config: {
    User?: string;
    Entrypoint?: string[] | null;
    Labels?: Record<string, string> | null;
    Healthcheck?: ImageInfo["healthcheck"];
    StopSignal?: string;
    ExposedPorts?: Record<string, unknown> | null;
    Env?: string[] | null;
  } | null;
}

/** `docker image inspect`, typed; null when the engine has no such image. */
export async function inspectImage(ref: string): Promise<ImageInfo | null> {
  const out = await run(["docker", "image", "inspect", "--format", "{{json .}}", ref], { timeoutMs: 30_000 });
  if (out.exitCode !== 0) {
    if (/no such image/i.test(out.stderr)) return null;
    throw new DeployError(`docker image inspect ${ref} failed: ${lastLines(out, 1).join("")}`);
  }
  const raw = JSON.parse(out.stdout) as RawImage;
  const config = raw.Config ?? {};
  return {
    id: raw.Id,
    repoTags: raw.RepoTags ?? [],
    repoDigests: raw.RepoDigests ?? [],
    size: raw.Size,
    created: raw.Created,
    architecture: raw.Architecture,
    user: config.User ?? "",
    entrypoint: config.Entrypoint ?? null,
    labels: config.Labels ?? {},
    healthcheck: config.Healthcheck ?? null,
    stopSignal: config.StopSignal ?? null,
    exposedPorts: Object.keys(config.ExposedPorts ?? {}),
    env: config.Env ?? [],
  };
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

interface RawContainer {
  Id: string;
  Name: string;
  Image: string;
  Config: { Image: string; Env: string[] | null; Labels: Record<string, string> | null };
  State: { Status: string; ExitCode: number; Health?: { Status: string } };
  NetworkSettings: { Ports: ContainerInfo["ports"] | null };
}

/** `docker inspect` of containers, typed; ones that are gone by now are left out. */
export async function inspectContainers(ids: readonly string[]): Promise<ContainerInfo[]> {
  if (ids.length === 0) return [];
  const out = await run(["docker", "inspect", "--format", "{{json .}}", ...ids], { timeoutMs: 30_000 });
  return out.stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const c = JSON.parse(line) as RawContainer;
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

/** Ids of the containers carrying every label, oldest first. */
export async function containersLabelled(labels: Record<string, string>, all: boolean): Promise<string[]> {
  const filters = Object.entries(labels).flatMap(([key, value]) => ["--filter", `label=${key}=${value}`]);
  const out = await runChecked(["docker", "ps", ...(all ? ["-a"] : []), "-q", "--no-trunc", ...filters], {
    timeoutMs: 30_000,
  });
  return out.stdout.split("\n").filter(Boolean).reverse();
}

export async function tagImage(source: string, ref: string): Promise<void> {
  await runChecked(["docker", "tag", source, ref], { what: `tagging ${source} as ${ref}`, timeoutMs: 30_000 });
}

/** `docker pull`; the result is the caller's to judge (a missing tag and an unreachable registry differ). */
export function pullImage(ref: string, options: RunOptions = {}): Promise<RunResult> {
  return run(["docker", "pull", ref], { timeoutMs: 600_000, ...options });
}

/** Pushes `ref` and returns the manifest digest the registry stored. */
export async function pushImage(ref: string): Promise<string> {
  const out = await run(["docker", "push", ref], { timeoutMs: 600_000 });
  if (out.exitCode !== 0) {
    const detail = lastLines(out, 1)[0] ?? "";
    throw new DeployError(
      `pushing ${ref} failed: ${detail}`,
      ExitCode.failed,
      /denied|unauthorized|authentication/i.test(detail)
        ? `log in first: docker login ${ref.split("/")[0]}`
        : "check that the registry runs and is reachable",
    );
  }
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(out.stdout)?.[1];
  if (!digest) throw new DeployError(`pushed ${ref} but docker reported no digest`);
  return digest;
}

/** Loads an image archive and returns the reference docker names for it. */
export async function loadImage(file: string): Promise<string> {
  const out = await runChecked(["docker", "load", "-i", file], { what: `docker load ${file}`, timeoutMs: 600_000 });
  const loaded = /Loaded image(?: ID)?: (\S+)/.exec(out.stdout)?.[1];
  if (!loaded) throw new DeployError(`${file} loaded but held no image (docker said: ${out.stdout.trim()})`);
  return loaded;
}

export async function saveImage(ref: string, file: string): Promise<void> {
  await runChecked(["docker", "save", "-o", file, ref], { what: `docker save ${ref}`, timeoutMs: 600_000 });
}

/** Removes a tag (never fails: a missing tag is already gone). */
export async function untagImage(ref: string): Promise<void> {
  await run(["docker", "image", "rm", ref], { timeoutMs: 60_000 });
}

/** Stops (SIGTERM, so the services drain) and removes containers. */
export async function retireContainers(ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await run(["docker", "stop", ...ids], { timeoutMs: 120_000 });
  await removeContainers(ids);
}

/** Removes containers at once (SIGKILL): only for ones no request reaches, which have nothing to drain. */
export async function removeContainers(ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await run(["docker", "rm", "-f", ...ids], { timeoutMs: 60_000 });
}

/** The last log lines and the health-check log of each container, for a user to see why a gate failed. */
export async function containerDiagnostics(ids: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const c of await inspectContainers(ids)) {
    const logs = await run(["docker", "logs", "--tail", "20", c.id], { timeoutMs: 30_000 });
    const health = await run(["docker", "inspect", "--format", "{{json .State.Health}}", c.id], { timeoutMs: 30_000 });
    parts.push(
      `--- ${c.name} (${c.status}${c.health ? `, ${c.health}` : ""}) last log lines:`,
      `${logs.stdout}${logs.stderr}`.trim() || "(no output)",
      `--- ${c.name} health log: ${health.stdout.trim()}`,
    );
  }
  return parts.join("\n");
}
