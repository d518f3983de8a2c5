import type { Static, TObject } from "@sinclair/typebox";
import type { AnyElysia } from "elysia";
import { type BuildInfo, readBuildInfo } from "./build-info";
import { ConfigError, loadConfig } from "./config";
import { type Lifecycle, prepareNativeRoutes } from "./http";
import { createLogger, type Logger } from "./logger";
import type { baseSettings } from "./settings";

type BaseConfig = Static<TObject<typeof baseSettings>>;

export interface ServiceContext<Config> {
  config: Config;
  logger: Logger;
  lifecycle: Lifecycle;
  info: BuildInfo;
}

export interface ServiceDefinition<S extends TObject> {
  name: string;
  packageVersion: string;
  settings: S;
  createApp(context: ServiceContext<Static<S>>): AnyElysia;
}

export interface ListenOptions {
  port: number;
  hostname: string;
}

/** Starts serving: the native routes first, then Elysia's listener (which takes them in). */
export function listen(app: AnyElysia, options: ListenOptions): Bun.Server<unknown> {
  prepareNativeRoutes(app);
  app.listen(options);
  const server = app.server;
  if (!server) throw new Error("the HTTP server did not start");
  return server;
}

/**
 * The life of a serving process (after handleProcessFlags): config (exit 2 on a bad value),
 * listen, and a graceful drain on SIGTERM/SIGINT (readyz goes 503, in-flight requests finish, exit 0).
 */
export async function runService<S extends TObject>(
  definition: ServiceDefinition<S>,
  env: Record<string, string | undefined> = Bun.env,
): Promise<void> {
  try {
    const info = readBuildInfo(definition.name, definition.packageVersion);
    const config = loadConfig(definition.settings, env);
    const base = config as BaseConfig;
    const logger = createLogger({ service: info.service, version: info.version, level: base.LOG_LEVEL });
    const lifecycle: Lifecycle = { state: "starting" };
    const app = definition.createApp({ config, logger, lifecycle, info });

    const server = listen(app, { port: base.PORT, hostname: base.HOST });
    lifecycle.state = "ready";
    logger.info({ port: server.port, host: base.HOST, commit: info.commit }, "listening");

    let draining = false;
    const drain = async (signal: string) => {
      if (draining) return;
      draining = true;
      lifecycle.state = "draining";
      logger.info({ signal, delayMs: base.SHUTDOWN_DELAY_MS, timeoutMs: base.DRAIN_TIMEOUT_MS }, "draining");
      if (base.SHUTDOWN_DELAY_MS > 0) await Bun.sleep(base.SHUTDOWN_DELAY_MS);
      const finished = await Promise.race([
        server.stop(false).then(() => true),
        Bun.sleep(base.DRAIN_TIMEOUT_MS).then(() => false),
      ]);
      if (!finished) {
        logger.warn({ timeoutMs: base.DRAIN_TIMEOUT_MS }, "drain timeout reached; closing open connections");
        await server.stop(true);
      }
      // The last responses' after-response hooks (access log, metrics) run just after they are sent.
      await new Promise((resolve) => setImmediate(resolve));
      logger.info("stopped");
      await logger.flush();
      process.exit(0);
    };
    process.on("SIGTERM", () => void drain("SIGTERM"));
    process.on("SIGINT", () => void drain("SIGINT"));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}
