/**
 * The service settings `up` takes as flags, derived from the services' own settings schemas
 * (lib/settings.ts): each flag sets one environment variable of one service, with the type,
 * bounds and meaning the service itself checks at start. A value the service would refuse fails
 * here with exit 2, before anything runs.
 */
import type { ArgsDef } from "citty";
import { SERVICES, type ServiceName } from "../services";
import { type SettingSpec, settingsOf, WIRED_SETTINGS } from "../settings";
import { choice, duration, integer, type Problems } from "./values";

type Kind =
  | { type: "enum"; options: readonly string[] }
  | { type: "integer"; min: number; max: number }
  | { type: "duration"; min: number; max: number };

export interface SettingFlag {
  /** Flag name as users type it (snake_case; kebab and camel spellings work too). */
  flag: string;
  service: ServiceName;
  env: string;
  kind: Kind;
  description: string;
}

/** Flag names; settings both services have get the service as a suffix (`--log_level_service2`). */
const FLAG_NAMES: Record<string, string> = {
  LOG_LEVEL: "log_level",
  MAX_BODY_BYTES: "max_body_bytes",
  SHUTDOWN_DELAY_MS: "shutdown_delay",
  DRAIN_TIMEOUT_MS: "drain_timeout",
  SERVICE1_TIMEOUT_MS: "upstream_timeout",
  SERVICE1_ATTEMPT_TIMEOUT_MS: "upstream_attempt_timeout",
  SERVICE1_RETRIES: "upstream_retries",
  SERVICE1_RETRY_BACKOFF_MS: "upstream_retry_backoff",
  SERVICE1_RESOLVE_INTERVAL_MS: "upstream_resolve_interval",
};

function kindOf(setting: SettingSpec): Kind {
  if (setting.type === "enum") return { type: "enum", options: setting.choices ?? [] };
  const bounds = { min: setting.minimum ?? 0, max: setting.maximum ?? Number.MAX_SAFE_INTEGER };
  return setting.unit === "ms" ? { type: "duration", ...bounds } : { type: "integer", ...bounds };
}

function flagsOf(service: ServiceName): SettingFlag[] {
  const both = new Set(
    settingsOf("service1")
      .map((s) => s.variable)
      .filter((v) => settingsOf("service2").some((s) => s.variable === v)),
  );
  return settingsOf(service)
    .filter((setting) => !WIRED_SETTINGS.has(setting.variable))
    .map((setting) => {
      const name = FLAG_NAMES[setting.variable];
      if (!name) {
        throw new Error(
          `${service} setting ${setting.variable} has no deploy flag; add it to FLAG_NAMES in lib/cli/settings-flags.ts`,
        );
      }
      const shared = both.has(setting.variable);
      return {
        flag: shared ? `${name}_${service}` : name,
        service,
        env: setting.variable,
        kind: kindOf(setting),
        description: shared ? `${setting.description} (${service})` : setting.description,
      };
    });
}

export const SETTING_FLAGS: readonly SettingFlag[] = SERVICES.flatMap(flagsOf);

/** The flags in citty's format; short value hints keep `--help` narrow, the choices are in the description. */
export const settingArgs: ArgsDef = Object.fromEntries(
  SETTING_FLAGS.map((p) => [
    p.flag,
    {
      type: "string",
      description: p.kind.type === "enum" ? `${p.description} One of: ${p.kind.options.join(", ")}.` : p.description,
      valueHint:
        p.kind.type === "enum"
          ? (p.flag
              .replace(/_service\d$/, "")
              .split("_")
              .pop() ?? "value")
          : p.kind.type,
    },
  ]),
);

/** The environment value for a flag value, or a problem naming what is allowed. */
export function checkSetting(spec: SettingFlag, raw: string): { value: string } | { error: string } {
  const problems: Problems = [];
  const { kind, flag } = spec;
  const value =
    kind.type === "enum"
      ? choice(flag, raw, kind.options, problems)
      : kind.type === "integer"
        ? integer(flag, raw, kind, `use a whole number from ${kind.min} to ${kind.max}`, problems)
        : duration(flag, raw, kind, `use a duration from ${kind.min}ms to ${kind.max}ms (e.g. 500ms, 2s)`, problems);
  return value === undefined ? { error: problems.join("; ") } : { value: String(value) };
}

/** Adds every given setting flag to its service's environment. */
export function settingsFrom(
  values: Readonly<Record<string, unknown>>,
  env: Record<ServiceName, Record<string, string>>,
  problems: Problems,
): void {
  for (const spec of SETTING_FLAGS) {
    const raw = values[spec.flag];
    if (typeof raw !== "string") continue;
    const checked = checkSetting(spec, raw);
    if ("error" in checked) problems.push(checked.error);
    else env[spec.service][spec.env] = checked.value;
  }
}
