/** Bounds and defaults every layer agrees on: the CLI checks them, the renderers and targets rely on them. */

/** Most replicas of one service, on every target (Compose scale, the autoscaler's ceiling). */
export const MAX_REPLICAS = 20;
/** How long each service may take to pass its health gate unless --health_timeout says otherwise. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 60_000;
export const MIN_HEALTH_TIMEOUT_MS = 1_000;
export const MAX_HEALTH_TIMEOUT_MS = 3_600_000;
/** Longest --lock_wait. */
export const MAX_LOCK_WAIT_MS = 3_600_000;
/** service2's published port on 127.0.0.1 with the Compose target. */
export const DEFAULT_PORT = 8080;
/** The port each service listens on inside its container or pod. */
export const CONTAINER_PORT = 8080;
