/**
 * Service settings that `up` exposes as flags. Each maps to one environment variable of one
 * service (see service1/src/settings.ts and service2/src/settings.ts); values are validated here so a typo fails with exit 2
 * before anything runs, instead of as a crash-looping container.
 */
export const SERVICES = ["service1", "service2"] as const;
export type ServiceName = (typeof SERVICES)[number];

export function isServiceName(value: string): value is ServiceName {
  return (SERVICES as readonly string[]).includes(value);
}

type Kind =
  | { type: "enum"; options: readonly string[] }
  | { type: "integer"; min: number; max: number }
  | { type: "duration"; min: number; max: number };

export interface ParamSpec {
  /** Flag name as users type it (snake_case; kebab and camel spellings work too). */
  flag: string;
  service: ServiceName;
  env: string;
  kind: Kind;
  description: string;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

function perService(base: string, env: string, kind: Kind, description: string): ParamSpec[] {
  return SERVICES.map((service) => ({
    flag: `${base}_${service}`,
    service,
    env,
    kind,
    description: `${description} (${service})`,
  }));
}

export const PARAMS: readonly ParamSpec[] = [
  ...perService("log_level", "LOG_LEVEL", { type: "enum", options: LOG_LEVELS }, "Lowest log level written"),
  ...perService(
    "max_body_bytes",
    "MAX_BODY_BYTES",
    { type: "integer", min: 256, max: 1048576 },
    "Largest request body",
  ),
  ...perService(
    "shutdown_delay",
    "SHUTDOWN_DELAY_MS",
    { type: "duration", min: 0, max: 60000 },
    "Time /readyz answers 503 before the listener closes on SIGTERM",
  ),
  ...perService(
    "drain_timeout",
    "DRAIN_TIMEOUT_MS",
    { type: "duration", min: 100, max: 120000 },
    "Time in-flight requests get after SIGTERM",
  ),
  {
    flag: "upstream_timeout",
    service: "service2",
    env: "SERVICE1_TIMEOUT_MS",
    kind: { type: "duration", min: 10, max: 60000 },
    description: "Budget for one call from service2 to service1, retries included",
  },
  {
    flag: "upstream_retries",
    service: "service2",
    env: "SERVICE1_RETRIES",
    kind: { type: "integer", min: 0, max: 5 },
    description: "Extra attempts service2 makes after a failed call to service1",
  },
  {
    flag: "upstream_retry_backoff",
    service: "service2",
    env: "SERVICE1_RETRY_BACKOFF_MS",
    kind: { type: "duration", min: 0, max: 5000 },
    description: "First pause between service2's retries (doubles each retry)",
  },
];

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `250`, `250ms`, `2s`, `1.5s`, `1m`, `1h` → milliseconds; null when not a duration. */
export function parseDuration(input: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(input.trim());
  if (!match) return null;
  const ms = Number(match[1]) * (UNIT_MS[match[2] ?? "ms"] ?? 1);
  return Number.isFinite(ms) && Number.isInteger(Math.round(ms)) ? Math.round(ms) : null;
}

/** A whole number in [min, max] written in plain decimal; null otherwise. */
export function parseInteger(input: string, min: number, max: number): number | null {
  if (!/^\d+$/.test(input.trim())) return null;
  const n = Number(input.trim());
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

/** The env value for a flag value, or an error message that names what is allowed. */
export function checkParam(spec: ParamSpec, raw: string): { value: string } | { error: string } {
  const shown = JSON.stringify(raw);
  switch (spec.kind.type) {
    case "enum":
      return spec.kind.options.includes(raw)
        ? { value: raw }
        : { error: `--${spec.flag}=${shown} is not allowed; use one of ${spec.kind.options.join(", ")}` };
    case "integer": {
      const n = parseInteger(raw, spec.kind.min, spec.kind.max);
      return n === null
        ? {
            error: `--${spec.flag}=${shown} is not allowed; use a whole number from ${spec.kind.min} to ${spec.kind.max}`,
          }
        : { value: String(n) };
    }
    case "duration": {
      const ms = parseDuration(raw);
      return ms === null || ms < spec.kind.min || ms > spec.kind.max
        ? {
            error: `--${spec.flag}=${shown} is not allowed; use a duration from ${spec.kind.min}ms to ${spec.kind.max}ms (e.g. 500ms, 2s)`,
          }
        : { value: String(ms) };
    }
  }
}
