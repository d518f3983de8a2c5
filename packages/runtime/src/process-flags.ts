import { Type } from "@sinclair/typebox";
import { readBuildInfo } from "./build-info";
import { ConfigError, loadConfig } from "./config";
import { baseSettings } from "./settings";

/**
 * The process flags, handled before the server code is even loaded: the container healthcheck
 * runs `<binary> --healthcheck` every few seconds, and loading the HTTP stack for it would cost
 * more CPU than the check itself. Keep this module's imports light.
 */
const USAGE = "usage: <service> [--healthcheck | --version]";

/** `--healthcheck`: 0 when our own /healthz answers 200 on loopback, else 1. No shell or curl needed. */
async function healthcheck(env: Record<string, string | undefined>): Promise<number> {
  const { PORT } = loadConfig(Type.Object({ PORT: baseSettings.PORT }), env);
  try {
    const response = await fetch(`http://127.0.0.1:${PORT}/healthz`, { signal: AbortSignal.timeout(2000) });
    return response.status === 200 ? 0 : 1;
  } catch {
    return 1;
  }
}

/** Exits for `--healthcheck`, `--version` and bad arguments; returns when the process should serve. */
export async function handleProcessFlags(
  name: string,
  packageVersion: string,
  argv: string[] = process.argv.slice(2),
  env: Record<string, string | undefined> = Bun.env,
): Promise<void> {
  const [flag, ...rest] = argv;
  if (flag === undefined) return;
  if (rest.length > 0 || (flag !== "--healthcheck" && flag !== "--version")) {
    console.error(`unknown argument ${JSON.stringify(argv.join(" "))}; ${USAGE}`);
    process.exit(2);
  }
  if (flag === "--version") {
    console.log(JSON.stringify(readBuildInfo(name, packageVersion)));
    process.exit(0);
  }
  try {
    process.exit(await healthcheck(env));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}
