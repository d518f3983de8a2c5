import { readBuildInfo } from "./build-info";
import { plainPort } from "./own-port";

/**
 * The process flags, handled before the server code is even loaded: the container healthcheck
 * runs `<binary> --healthcheck` every few seconds, and loading the HTTP stack for it would cost
 * more CPU than the check itself. Keep this module's imports light: the settings schema (TypeBox)
 * is loaded only for a PORT that is not a plain number.
 */
const USAGE = "usage: <service> [--healthcheck | --probe=/PATH | --version]";

/** Longest path `--probe` accepts; real routes are a few dozen characters. */
const MAX_PROBE_PATH = 2048;
/** Most body bytes `--probe` prints: enough for any answer of the services' own routes. */
const MAX_PROBE_BODY = 65_536;

type Env = Record<string, string | undefined>;

async function ownPort(env: Env): Promise<number> {
  const plain = plainPort(env.PORT);
  if (plain !== null) return plain;
  const [{ Type }, { loadConfig }, { baseSettings }] = await Promise.all([
    import("@sinclair/typebox"),
    import("./config"),
    import("./settings"),
  ]);
  return loadConfig(Type.Object({ PORT: baseSettings.PORT }), env).PORT;
}

/** `--healthcheck`: 0 when our own /healthz answers 200 on loopback, else 1. No shell or curl needed. */
async function healthcheck(env: Env): Promise<number> {
  const port = await ownPort(env);
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    return response.status === 200 ? 0 : 1;
  } catch {
    return 1;
  }
}

/** A path on our own server: starts with `/`, printable ASCII without spaces, bounded. */
export function probePathProblem(path: string): string | null {
  if (!path.startsWith("/") || path.startsWith("//")) return "it must start with a single /";
  if (path.length > MAX_PROBE_PATH) return `it must be at most ${MAX_PROBE_PATH} characters`;
  if (!/^[\x21-\x7e]+$/.test(path)) return "it may hold only printable ASCII without spaces";
  return null;
}

/**
 * `--probe=/PATH`: GET that path of our own server on 127.0.0.1:$PORT (what the deployer runs in
 * a new container with `docker exec` / `kubectl exec`, since the images have no shell or curl).
 * Prints `HTTP <status>` on the first line of stdout and the body after it; exits 0 for 200,
 * 1 for any other answer or no answer (`HTTP 000` and the error code).
 */
async function probe(path: string, env: Env): Promise<number> {
  const port = await ownPort(env);
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(5000),
      headers: { "x-request-id": `probe-${Date.now()}` },
    });
    const body = (await response.text()).slice(0, MAX_PROBE_BODY);
    await Bun.write(Bun.stdout, `HTTP ${response.status}\n${body}\n`);
    return response.status === 200 ? 0 : 1;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    await Bun.write(Bun.stdout, `HTTP 000\n${typeof code === "string" ? code : (error as Error).name}\n`);
    return 1;
  }
}

function usageError(message: string): never {
  console.error(`${message}; ${USAGE}`);
  process.exit(2);
}

/** Exits for `--healthcheck`, `--probe=`, `--version` and bad arguments; returns when the process should serve. */
export async function handleProcessFlags(
  name: string,
  packageVersion: string,
  argv: string[] = process.argv.slice(2),
  env: Env = Bun.env,
): Promise<void> {
  const [flag, ...rest] = argv;
  if (flag === undefined) return;
  const probePath = flag.startsWith("--probe=") ? flag.slice("--probe=".length) : null;
  if (rest.length > 0 || (flag !== "--healthcheck" && flag !== "--version" && probePath === null)) {
    usageError(`unknown argument ${JSON.stringify(argv.join(" "))}`);
  }
  if (flag === "--version") {
    console.log(JSON.stringify(readBuildInfo(name, packageVersion)));
    process.exit(0);
  }
  if (probePath !== null) {
    const problem = probePathProblem(probePath);
    if (problem) usageError(`--probe=${JSON.stringify(probePath)} is not allowed: ${problem}`);
  }
  try {
    process.exit(probePath === null ? await healthcheck(env) : await probe(probePath, env));
  } catch (error) {
    const { ConfigError } = await import("./config");
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}
