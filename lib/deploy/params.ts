import type { TObject, TSchema } from "@sinclair/typebox";
import { settings as service1Settings } from "@timekit/service1/settings";
import { settings as service2Settings } from "@timekit/service2/settings";
import { UsageError } from "./errors";

/**
 * Service settings that `up` exposes as flags. Each maps to one environment variable of one
 * service; type, bounds and meaning come from the services' own settings schemas, so a value that
 * a service would refuse at start fails here with exit 2, before anything runs.
 */
export const SERVICES = ["service1", "service2"] as const;
export type ServiceName = (typeof SERVICES)[number];

export function isServiceName(value: string): value is ServiceName {
  return (SERVICES as readonly string[]).includes(value);
}

/** `--service=S` as the services it names: S alone, or both when the flag is absent. */
export function servicesFromFlag(service: string | undefined): ServiceName[] {
  if (service === undefined) return [...SERVICES];
  if (!isServiceName(service)) {
    throw new UsageError(`--service=${JSON.stringify(service)} is not allowed; use service1 or service2`);
  }
  return [service];
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

/** Settings the deploy wires itself (listen address, where service2 finds service1). */
export const WIRED_SETTINGS = new Set(["PORT", "HOST", "SERVICE1_URL"]);

/** Flag names: settings both services have get the service as a suffix (`--log_level_service2`). */
const FLAG_NAMES: Record<string, string> = {
  LOG_LEVEL: "log_level",
  MAX_BODY_BYTES: "max_body_bytes",
  SHUTDOWN_DELAY_MS: "shutdown_delay",
  DRAIN_TIMEOUT_MS: "drain_timeout",
  SERVICE1_TIMEOUT_MS: "upstream_timeout",
  SERVICE1_ATTEMPT_TIMEOUT_MS: "upstream_attempt_timeout",
  SERVICE1_RETRIES: "upstream_retries",
  SERVICE1_RETRY_BACKOFF_MS: "upstream_retry_backoff",
};

const SCHEMAS: Record<ServiceName, TObject> = { service1: service1Settings, service2: service2Settings };

function kindOf(schema: TSchema): Kind {
  if (Array.isArray(schema.anyOf))
    return { type: "enum", options: schema.anyOf.map((option: TSchema) => option.const) };
  const bounds = { min: schema.minimum as number, max: schema.maximum as number };
  return schema.unit === "ms" ? { type: "duration", ...bounds } : { type: "integer", ...bounds };
}

function paramsFor(service: ServiceName): ParamSpec[] {
  const schema = SCHEMAS[service];
  const shared = (env: string) => env in SCHEMAS.service1.properties && env in SCHEMAS.service2.properties;
  return Object.entries(schema.properties)
    .filter(([env]) => !WIRED_SETTINGS.has(env))
    .map(([env, setting]) => {
      const name = FLAG_NAMES[env];
      if (!name)
        throw new Error(`${service} setting ${env} has no deploy flag; add it to FLAG_NAMES in lib/deploy/params.ts`);
      return {
        flag: shared(env) ? `${name}_${service}` : name,
        service,
        env,
        kind: kindOf(setting),
        description: shared(env) ? `${setting.description} (${service})` : String(setting.description),
      };
    });
}

export const PARAMS: readonly ParamSpec[] = SERVICES.flatMap(paramsFor);

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
