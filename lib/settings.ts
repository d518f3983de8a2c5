/**
 * The services' settings, read from their own schemas (the ones the binaries check at start), so
 * the deploy flags, the manifests, the chart values and the render input cannot drift from what
 * the code accepts.
 */

import type { TObject, TSchema } from "@sinclair/typebox";
import { ConfigError, loadConfig } from "@timekit/runtime";
import { settings as service1Settings } from "@timekit/service1/settings";
import { settings as service2Settings } from "@timekit/service2/settings";
import type { ServiceName } from "./services";

export const SETTINGS_SCHEMAS: Readonly<Record<ServiceName, TObject>> = {
  service1: service1Settings,
  service2: service2Settings,
};
const SCHEMAS = SETTINGS_SCHEMAS;

/** Settings every deploy wires itself (listen address, where service2 finds service1). */
export const WIRED_SETTINGS: ReadonlySet<string> = new Set(["PORT", "HOST", "SERVICE1_URL"]);

export interface SettingSpec {
  variable: string;
  description: string;
  /** `ms` for durations. */
  unit?: string;
  /** The chart value under `config`, e.g. MAX_BODY_BYTES -> maxBodyBytes. */
  valueKey: string;
  default: string;
  type: "integer" | "string" | "enum";
  minimum?: number;
  maximum?: number;
  choices?: string[];
  pattern?: string;
}

/** SCREAMING_SNAKE to camelCase: SERVICE1_RETRY_BACKOFF_MS -> service1RetryBackoffMs. */
export function valueKey(variable: string): string {
  return variable.toLowerCase().replace(/_([a-z0-9])/g, (_, next: string) => next.toUpperCase());
}

function describe(variable: string, schema: TSchema): SettingSpec {
  const base = {
    variable,
    valueKey: valueKey(variable),
    default: String(schema.default),
    description: String(schema.description ?? ""),
    ...(typeof schema.unit === "string" ? { unit: schema.unit } : {}),
  };
  if (Array.isArray(schema.anyOf)) {
    return { ...base, type: "enum", choices: schema.anyOf.map((literal: TSchema) => String(literal.const)) };
  }
  if (schema.type === "integer") {
    return { ...base, type: "integer", minimum: schema.minimum, maximum: schema.maximum };
  }
  return { ...base, type: "string", ...(schema.pattern ? { pattern: schema.pattern } : {}) };
}

/** Every setting of a service, in the order the service declares them. */
export function settingsOf(service: ServiceName): SettingSpec[] {
  return Object.entries(SCHEMAS[service].properties).map(([variable, schema]) => describe(variable, schema));
}

/** The environment a service runs with when nothing is overridden. */
export function defaultEnv(service: ServiceName): Record<string, string> {
  return Object.fromEntries(settingsOf(service).map((setting) => [setting.variable, setting.default]));
}

/**
 * Checks overrides exactly as the service will at start (unknown names too) and returns the full
 * environment. Throws an Error naming the service, the variable, the value and what is allowed.
 */
export function resolveEnv(service: ServiceName, overrides: Record<string, string> = {}): Record<string, string> {
  const known = new Set(Object.keys(SCHEMAS[service].properties));
  for (const name of Object.keys(overrides)) {
    if (!known.has(name)) {
      throw new Error(`${service}: unknown setting ${name}; known settings are ${[...known].join(", ")}`);
    }
  }
  try {
    // Canonical strings (e.g. "08000" -> "8000"), so raw manifests and chart values agree.
    const config = loadConfig(SCHEMAS[service], overrides) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(config).map(([name, value]) => [name, String(value)]));
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(`${service}: ${error.message}`);
    throw error;
  }
}

/**
 * Every setting a service runs with: what was asked, with the defaults filled in, without the
 * settings each deploy wires itself (PORT, HOST, SERVICE1_URL). What history records and what the
 * Compose override hands each container.
 */
export function effectiveSettings(service: ServiceName, env: Record<string, string>): Record<string, string> {
  let resolved: Record<string, string>;
  try {
    resolved = resolveEnv(service, env);
  } catch {
    // A state recorded by an older CLI that took any KEY=VALUE: run it as it ran then.
    resolved = env;
  }
  return Object.fromEntries(Object.entries(resolved).filter(([name]) => !WIRED_SETTINGS.has(name)));
}

/**
 * Why `name=value` cannot be one of `service`'s settings (null when it can): a setting the deploy
 * wires itself, a name the service does not know, or a value it would refuse at start.
 */
export function settingProblem(service: ServiceName, name: string, value: string): string | null {
  if (WIRED_SETTINGS.has(name)) return `${name} is wired by the deploy itself; remove it`;
  const known = Object.keys(SCHEMAS[service].properties).filter((k) => !WIRED_SETTINGS.has(k));
  if (!known.includes(name)) return `${name} is not a ${service} setting; known settings are ${known.join(", ")}`;
  try {
    resolveEnv(service, { [name]: value });
    return null;
  } catch (error) {
    return (error as Error).message.replace(`${service}: `, "");
  }
}
