import { setting } from "./config";
import { LOG_LEVELS } from "./logger";
import { DEFAULT_PORT } from "./own-port";

/** Settings every service has. Each service spreads these into its own schema. */
export const baseSettings = {
  PORT: setting.port({ default: DEFAULT_PORT, description: "TCP port the HTTP server listens on." }),
  HOST: setting.hostname({ default: "0.0.0.0", description: "Address the HTTP server binds to." }),
  LOG_LEVEL: setting.oneOf(LOG_LEVELS, {
    default: "info",
    description: "Lowest level written to stdout; access logs are `info`.",
  }),
  MAX_BODY_BYTES: setting.integer({
    default: 16384,
    minimum: 256,
    maximum: 1048576,
    description:
      "Largest request body accepted; bigger bodies get 413 (a chunked body that declares no length is cut at twice this).",
  }),
  SHUTDOWN_DELAY_MS: setting.duration({
    default: 0,
    minimum: 0,
    maximum: 60000,
    description:
      "On SIGTERM, answer /readyz 503 this long before closing the listener, so load balancers move away first.",
  }),
  DRAIN_TIMEOUT_MS: setting.duration({
    default: 8000,
    minimum: 100,
    maximum: 120000,
    description: "How long in-flight requests may take to finish after SIGTERM before connections are cut.",
  }),
};
