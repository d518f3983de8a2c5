import type { Subprocess } from "bun";

const root = new URL("../..", import.meta.url).pathname;
export const ENTRYPOINTS = { service1: `${root}service1/src/main.ts`, service2: `${root}service2/src/main.ts` };

/** A port nobody listens on right now: the OS picks it, we release it. */
export function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const { port } = probe;
  probe.stop(true);
  return port as number;
}

/**
 * service2's budgets for its calls to service1 in suites that load the machine: on two saturated
 * cores one call can outlast the default second, and service2 answers 504. Those suites are about
 * what they measure (routing, draining, metrics, memory), not service1's latency.
 */
export const ROOMY_UPSTREAM = { SERVICE1_TIMEOUT_MS: "10000", SERVICE1_ATTEMPT_TIMEOUT_MS: "2500" } as const;

/** The same budgets as deploy flags, for suites that deploy a stack and load it (later deploys keep them). */
export const ROOMY_UPSTREAM_FLAGS = [
  `--upstream_timeout=${ROOMY_UPSTREAM.SERVICE1_TIMEOUT_MS}ms`,
  `--upstream_attempt_timeout=${ROOMY_UPSTREAM.SERVICE1_ATTEMPT_TIMEOUT_MS}ms`,
] as const;

export interface ServiceProcess {
  process: Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  url: string;
  /** Everything printed so far, stdout and stderr, one string per line. */
  output: () => string[];
  logs: () => Record<string, unknown>[];
  exited: Promise<number>;
}

export async function startService(
  service: keyof typeof ENTRYPOINTS,
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<ServiceProcess> {
  return startCommand([process.execPath, ENTRYPOINTS[service], ...args], env, args.length === 0);
}

/** Runs a compiled binary (from `bun run build`) the way startService runs the sources. */
export function startBinary(path: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  return startCommand([path], env, true);
}

async function startCommand(
  command: string[],
  env: Record<string, string>,
  waitForReady: boolean,
): Promise<ServiceProcess> {
  const port = Number(env.PORT ?? freePort());
  const child = Bun.spawn(command, {
    env: { ...Bun.env, HOST: "127.0.0.1", LOG_LEVEL: "info", ...env, PORT: String(port) },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
    }
    if (rest) lines.push(rest);
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const exited = child.exited.then(async (code) => {
    await drained;
    return code;
  });
  const url = `http://127.0.0.1:${port}`;
  const started: ServiceProcess = {
    process: child,
    port,
    url,
    output: () => [...lines],
    logs: () => lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line)),
    exited,
  };
  if (waitForReady) await waitUntilHealthy(started);
  return started;
}

async function waitUntilHealthy(service: ServiceProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.process.exitCode !== null) {
      throw new Error(`service exited with ${service.process.exitCode}: ${service.output().join("\n")}`);
    }
    try {
      const response = await fetch(`${service.url}/readyz`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(50);
  }
  throw new Error(`service on ${service.url} not ready within ${timeoutMs} ms: ${service.output().join("\n")}`);
}

export async function stopAll(services: ServiceProcess[]): Promise<void> {
  for (const service of services) {
    if (service.process.exitCode === null && service.process.signalCode === null) {
      service.process.kill("SIGCONT");
      service.process.kill("SIGKILL");
    }
    await service.exited;
  }
}
