/**
 * Shared helpers for suites that need a real Docker engine. A suite calls `requireDocker(name)`
 * at module level: when no engine answers it skips with one line saying why, except with
 * CI=true, where it registers a failing test instead, so CI cannot pass by skipping.
 */
import { test } from "bun:test";
import { type RunOptions, type RunResult, run as runProgram } from "../../lib/exec";
import { dockerAvailable } from "../../lib/images/docker";

/**
 * The runner with this process's environment plus `env` (a key set to undefined is removed), which
 * is what a test usually wants; lib/ code hands its children an explicit environment instead.
 */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const env: Record<string, string | undefined> = { ...Bun.env, ...options.env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return runProgram(argv, { ...options, env });
}

let availability: ReturnType<typeof dockerAvailable> | undefined;

/** Memoized: every suite in one `bun test` run asks the engine once. */
export function dockerStatus(): ReturnType<typeof dockerAvailable> {
  availability ??= dockerAvailable();
  return availability;
}

const isCI = () => Bun.env.CI === "true";

/** Fails (CI) or skips with a one-line reason; returns whether the suite may run. */
export function unavailable(suite: string, reason: string): false {
  if (isCI()) {
    test(`${suite}: needs a Docker engine (CI=true)`, () => {
      throw new Error(`${suite}: ${reason}`);
    });
  } else {
    console.log(`skipping ${suite}: ${reason}`);
  }
  return false;
}

/** True when a Docker engine answers; otherwise skips or fails the suite (see module comment). */
export async function requireDocker(suite: string): Promise<boolean> {
  const status = await dockerStatus();
  return status.ok ? true : unavailable(suite, status.reason);
}

/** A port free on 127.0.0.1 right now: the OS picks it, we release it. */
export function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port as number;
  probe.stop(true);
  return port;
}

/** A name no other run uses: `timekit-test-<what>-<pid>-<random>`. */
export function uniqueName(what: string): string {
  return `timekit-test-${what}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Runs a docker command and returns stdout; throws with the command's own error otherwise. */
export async function docker(args: string[], timeoutMs = 120_000): Promise<string> {
  const out = await run(["docker", ...args], { timeoutMs });
  if (out.exitCode !== 0) {
    throw new Error(`docker ${args.join(" ")} failed (${out.exitCode}): ${out.stderr.trim() || out.stdout.trim()}`);
  }
  return out.stdout.trim();
}

/** Thrown from a `waitFor` check to stop waiting at once (the thing waited for cannot happen now). */
export class GiveUp extends Error {}

/**
 * Polls `check` until it returns a value other than undefined. Errors it throws are retried
 * (a port not open yet), except GiveUp. The timeout is a generous hang guard, not a timing.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await Bun.sleep(everyMs);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: docker inspect output is checked by assertions
export type Inspect = any;

export async function inspect(id: string): Promise<Inspect> {
  return JSON.parse(await docker(["inspect", id]))[0];
}

/** Waits until the container's HEALTHCHECK reports healthy; fails fast when it exits or turns unhealthy. */
export async function waitHealthy(id: string, timeoutMs = 90_000): Promise<void> {
  await waitFor(
    `${id.slice(0, 12)} to be healthy`,
    async () => {
      const state = (await inspect(id)).State;
      if (state.Health?.Status === "healthy") return true;
      if (state.Status === "exited" || state.Health?.Status === "unhealthy") {
        const logs = await run(["docker", "logs", "--tail", "20", id]);
        throw new GiveUp(
          `container ${id.slice(0, 12)} is ${state.Health?.Status ?? state.Status} (exit ${state.ExitCode}):\n${logs.stdout}${logs.stderr}`,
        );
      }
      return undefined;
    },
    timeoutMs,
  );
}

/** JSON log lines of a container (stdout), parsed; non-JSON lines are dropped. */
export async function containerLogs(id: string): Promise<Record<string, unknown>[]> {
  const out = await run(["docker", "logs", id], { timeoutMs: 30_000 });
  return `${out.stdout}\n${out.stderr}`
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Removes containers by id, ignoring ones already gone. */
export async function removeContainers(ids: string[]): Promise<void> {
  if (ids.length > 0) await run(["docker", "rm", "-f", "-v", ...ids], { timeoutMs: 60_000 });
}

export interface StartOptions {
  image: string;
  /** `docker run` options before the image, e.g. ["--read-only"]. */
  options?: string[];
  env?: Record<string, string>;
  /** Arguments after the image (to the entrypoint). */
  args?: string[];
  /** Publish container port 8080 on an ephemeral 127.0.0.1 port. */
  publish?: boolean;
}

export interface StartedContainer {
  id: string;
  /** `http://127.0.0.1:PORT` when published. */
  url: string;
}

/** `docker run -d`, labelled timekit.test=true; `cleanup` collects the id for afterAll. */
export async function startContainer(start: StartOptions, cleanup: string[]): Promise<StartedContainer> {
  const env = Object.entries(start.env ?? {}).flatMap(([key, value]) => ["--env", `${key}=${value}`]);
  const id = await docker([
    "run",
    "--detach",
    "--name",
    uniqueName("run"),
    "--label",
    "timekit.test=true",
    ...(start.publish ? ["--publish", "127.0.0.1::8080"] : []),
    ...env,
    ...(start.options ?? []),
    start.image,
    ...(start.args ?? []),
  ]);
  cleanup.push(id);
  if (!start.publish) return { id, url: "" };
  const ports = (await inspect(id)).NetworkSettings.Ports["8080/tcp"] as { HostIp: string; HostPort: string }[];
  const binding = ports?.[0];
  if (!binding) throw new Error(`container ${id.slice(0, 12)} published no port`);
  return { id, url: `http://127.0.0.1:${binding.HostPort}` };
}

/** Waits until GET url answers 200 (the container is serving). */
export async function waitServing(url: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(`${url} to answer`, async () => ((await fetch(url)).status === 200 ? true : undefined), timeoutMs);
}
