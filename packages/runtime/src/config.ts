import {
  FormatRegistry,
  type Static,
  type TLiteral,
  type TObject,
  type TSchema,
  type TUnion,
  Type,
} from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { PORT_RANGE } from "./own-port";

/**
 * Every setting comes from one environment variable. A schema describes each one (type, bounds,
 * default, meaning); `loadConfig` checks them all at start and names the first bad one.
 */

type Env = Record<string, string | undefined>;

/** Thrown for the first invalid variable; its message is the one line the process prints. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly allowed: string,
  ) {
    super(`invalid environment variable ${variable}=${JSON.stringify(value)}: expected ${allowed}`);
    this.name = "ConfigError";
  }
}

interface SettingOptions {
  description: string;
}

export const setting = {
  integer(options: SettingOptions & { default: number; minimum: number; maximum: number }) {
    return Type.Integer({ ...options, allowed: `an integer from ${options.minimum} to ${options.maximum}` });
  },
  port(options: SettingOptions & { default: number }) {
    return setting.integer({ ...options, ...PORT_RANGE });
  },
  /** Milliseconds, written as a plain integer. */
  duration(options: SettingOptions & { default: number; minimum: number; maximum: number }) {
    return Type.Integer({
      ...options,
      unit: "ms",
      allowed: `a duration in milliseconds from ${options.minimum} to ${options.maximum}`,
    });
  },
  oneOf<const Choices extends readonly [string, ...string[]]>(
    choices: Choices,
    options: SettingOptions & { default: Choices[number] },
  ) {
    const literals = choices.map((choice) => Type.Literal(choice));
    return Type.Union(literals, { ...options, allowed: `one of ${choices.join(", ")}` }) as TUnion<
      TLiteral<Choices[number]>[]
    >;
  },
  httpUrl(options: SettingOptions & { default: string }) {
    return Type.String({ ...options, format: "http-url", allowed: "an http:// or https:// URL with a host" });
  },
  hostname(options: SettingOptions & { default: string }) {
    return Type.String({
      ...options,
      pattern: "^[A-Za-z0-9.:\\-\\[\\]]{1,253}$",
      allowed: "an IP address or host name",
    });
  },
};

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
}

function convert(schema: TSchema, raw: string): unknown {
  if (schema.type === "integer") {
    return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  }
  return raw.trim();
}

FormatRegistry.Set("http-url", isHttpUrl);

/** Reads and checks every variable the schema names; unset or empty means the default. */
export function loadConfig<S extends TObject>(schema: S, env: Env): Static<S> {
  const config: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(schema.properties)) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "") {
      config[name] = variable.default;
      continue;
    }
    const value = convert(variable, raw);
    if (!Value.Check(variable, value)) throw new ConfigError(name, raw, variable.allowed as string);
    config[name] = value;
  }
  return config as Static<S>;
}

export interface SettingDoc {
  variable: string;
  default: string;
  allowed: string;
  description: string;
}

/** One row per variable, for docs and for the test that keeps the README's table honest. */
export function describeConfig(schema: TObject): SettingDoc[] {
  return Object.entries(schema.properties).map(([variable, s]) => ({
    variable,
    default: String(s.default),
    allowed: String(s.allowed),
    description: String(s.description),
  }));
}
