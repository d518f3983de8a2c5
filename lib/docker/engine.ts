/**
 * The Docker engine as the image tooling sees it: is one answering, which client can build with
 * BuildKit, and typed reads of images. Every failure says what to do about it.
 */
import { $, type ProcessOutput } from "zx";

export class DockerError extends Error {
  override name = "DockerError";
  constructor(
    message: string,
    /** What the user can do about it, one sentence. */
    readonly fix?: string,
  ) {
    super(fix ? `${message}\n  fix: ${fix}` : message);
  }
}

const sh = $({ quiet: true, nothrow: true, verbose: false });

export interface RunOptions {
  /** Added to this process's environment; a key set to undefined is removed. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  input?: string;
  /** Called with each line of output (stdout and stderr) as it arrives. */
  onLine?: (line: string) => void;
}

function splitLines(onLine: (line: string) => void): (chunk: Buffer) => void {
  let rest = "";
  return (chunk) => {
    const parts = (rest + chunk.toString()).split("\n");
    rest = parts.pop() ?? "";
    for (const part of parts) if (part.trim()) onLine(part);
  };
}

/** Runs a command with its arguments quoted by zx; never throws on a non-zero exit (check `exitCode`). */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<ProcessOutput> {
  const [bin, ...args] = argv;
  if (!bin) throw new Error("run: empty command");
  const env: NodeJS.ProcessEnv = { ...process.env };
  // An undefined value unsets the variable for the child.
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const child = sh({
    env,
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
  })`${bin} ${args}`;
  if (options.onLine) {
    child.stdout.on("data", splitLines(options.onLine));
    child.stderr.on("data", splitLines(options.onLine));
  }
  return child;
}

/** Last non-empty line of a command's error output: usually the one that explains. */
export function lastLine(output: ProcessOutput): string {
  return (
    `${output.stderr}\n${output.stdout}`
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      .pop() ?? `exit code ${output.exitCode}`
  );
}

const START_DAEMON =
  "start the daemon (`systemctl start docker`, or `dockerd >/var/log/dockerd.log 2>&1 &` as root), " +
  "or point DOCKER_HOST at a running engine";

export type Availability = { ok: true; serverVersion: string } | { ok: false; reason: string };

/** Whether a Docker engine answers, and if not, a one-line reason. Never throws. */
export async function dockerAvailable(): Promise<Availability> {
  let output: ProcessOutput;
  try {
    output = await run(["docker", "version", "--format", "{{.Server.Version}}"], { timeoutMs: 15_000 });
  } catch (error) {
    return { ok: false, reason: `the docker client cannot run (${(error as Error).message})` };
  }
  const version = output.stdout.trim();
  if (output.exitCode === 0 && version) return { ok: true, serverVersion: version };
  if (output.exitCode === 127) return { ok: false, reason: "the docker client is not installed (no `docker` on PATH)" };
  const where = process.env.DOCKER_HOST || "unix:///var/run/docker.sock";
  return { ok: false, reason: `no Docker engine answers at ${where} (${lastLine(output)})` };
}

/** Throws a DockerError naming the fix when no engine answers; returns the server version. */
export async function requireDocker(): Promise<string> {
  const availability = await dockerAvailable();
  if (!availability.ok) throw new DockerError(availability.reason, START_DAEMON);
  return availability.serverVersion;
}

export interface BuildKitClient {
  /** argv prefix that builds with BuildKit: followed by `[options] CONTEXT`. */
  argv: string[];
  env: Record<string, string>;
  description: string;
  /** buildx can export caches (`--cache-to`); the built-in BuildKit of older clients cannot. */
  buildx: boolean;
}

function major(version: string): number {
  return Number.parseInt(version.replace(/^v/, "").split(".")[0] ?? "", 10);
}

let cachedClient: Promise<BuildKitClient> | undefined;

/**
 * A client whose `build` understands `RUN --mount` and `--secret`: one with the buildx plugin, or
 * a pre-23 client where BuildKit is built in behind DOCKER_BUILDKIT=1. A 23+ client without
 * buildx silently falls back to the legacy builder, which cannot build the Dockerfile, so it is
 * skipped (Debian's 20.10 client in /usr/bin is often beside a newer one in /usr/local/bin).
 */
export function buildkitClient(): Promise<BuildKitClient> {
  cachedClient ??= findBuildkitClient();
  return cachedClient;
}

async function findBuildkitClient(): Promise<BuildKitClient> {
  const buildx = await run(["docker", "buildx", "version"], { timeoutMs: 15_000 }).catch(() => null);
  if (buildx?.exitCode === 0) {
    return { argv: ["docker", "buildx", "build", "--load"], env: {}, description: "docker buildx", buildx: true };
  }
  const seen: string[] = [];
  for (const client of ["docker", "/usr/bin/docker", "/usr/local/bin/docker"]) {
    const out = await run([client, "version", "--format", "{{.Client.Version}}"], { timeoutMs: 15_000 }).catch(
      () => null,
    );
    const version = out?.stdout.trim().split("\n")[0] ?? "";
    if (!version) continue;
    seen.push(`${client} ${version}`);
    if (major(version) < 23) {
      return {
        argv: [client, "build"],
        env: { DOCKER_BUILDKIT: "1" },
        description: `${client} ${version} (BuildKit)`,
        buildx: false,
      };
    }
  }
  throw new DockerError(
    `no Docker client here builds with BuildKit (found: ${seen.join(", ") || "none"}; a 23+ client needs the buildx plugin)`,
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
    throw new DockerError(`docker image inspect ${ref} failed: ${lastLine(out)}`);
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
