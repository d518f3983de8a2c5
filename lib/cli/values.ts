/**
 * Value checks of the command layer. Each reads one flag's string, and either returns the typed
 * value or adds a problem naming the flag, the value and what is allowed to `problems`, so a
 * command reports every bad value at once (exit 2) before anything runs.
 */
import { existsSync, readFileSync } from "node:fs";
import semver from "semver";
import { parseVersion, type VersionSpec } from "../deploy/versions";
import { KNOWN_GOOD } from "../images/registry";
import { MAX_REPLICAS } from "../limits";

export type Problems = string[];

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `250`, `250ms`, `2s`, `1.5s`, `1m`, `1h` → milliseconds; null when not a duration. */
export function parseDuration(input: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(input.trim());
  if (!match) return null;
  const ms = Number(match[1]) * (UNIT_MS[match[2] ?? "ms"] ?? 1);
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

/** A whole number in plain decimal; null otherwise. */
export function parseInteger(input: string): number | null {
  if (!/^\d+$/.test(input.trim())) return null;
  const n = Number(input.trim());
  return Number.isSafeInteger(n) ? n : null;
}

export const shown = (raw: string) => JSON.stringify(raw);

type Bounds = { min: number; max: number };

function bounded(parse: (raw: string) => number | null) {
  /** The flag's number within `bounds`, or a problem saying what is `allowed` instead. */
  return (flag: string, raw: string | undefined, bounds: Bounds, allowed: string, problems: Problems) => {
    if (raw === undefined) return undefined;
    const n = parse(raw);
    if (n !== null && n >= bounds.min && n <= bounds.max) return n;
    problems.push(`--${flag}=${shown(raw)} is not allowed; ${allowed}`);
    return undefined;
  };
}

/** A duration flag (`500ms`, `2s`, `1m`) in milliseconds. */
export const duration = bounded(parseDuration);
/** A whole-number flag. */
export const integer = bounded(parseInteger);

export function choice<C extends string>(
  flag: string,
  raw: string | undefined,
  choices: readonly C[],
  problems: Problems,
): C | undefined {
  if (raw === undefined) return undefined;
  if ((choices as readonly string[]).includes(raw)) return raw as C;
  problems.push(`--${flag}=${shown(raw)} is not allowed; use one of ${choices.join(", ")}`);
  return undefined;
}

export const VERSION_HELP = `dev, ${KNOWN_GOOD} (the last promoted image; needs --registry), or a published tag such as 1.0, v1.0, 1.2.3, v1.2.3 or 1.2.3-rc.1`;

export function version(
  flag: string,
  raw: string,
  problems: Problems,
  allowed = VERSION_HELP,
): VersionSpec | undefined {
  const spec = parseVersion(raw);
  if (!spec) problems.push(`--${flag}=${shown(raw)} is not a version; use ${allowed}`);
  return spec ?? undefined;
}

/** A release version: strict semver, a leading `v` dropped. */
export function releaseVersion(flag: string, raw: string, problems: Problems): string | undefined {
  const bare = raw.replace(/^v/i, "");
  if (semver.valid(bare) === bare) return bare;
  problems.push(`--${flag}=${shown(raw)} is not a release version; use X.Y.Z or X.Y.Z-pre.N (e.g. 1.4.0, 1.4.0-rc.1)`);
  return undefined;
}

/** `host[:port][/path]` without scheme, tag or trailing slash. */
export function registry(raw: string | undefined, problems: Problems): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (/^[a-zA-Z0-9.-]+(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(raw)) return raw;
  problems.push(
    `--registry=${shown(raw)} is not allowed; use host[:port][/path] without a scheme, e.g. 127.0.0.1:5000/timekit`,
  );
  return undefined;
}

/** A local image repository such as `timekit` or `acme/timekit-test`: Docker's path grammar, no host. */
export function localRepository(raw: string | undefined, problems: Problems): string | undefined {
  if (raw === undefined) return undefined;
  const component = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
  if (raw.length <= 128 && new RegExp(`^${component}(?:/${component})*$`).test(raw)) return raw;
  problems.push(
    `--local_repository=${shown(raw)} is not allowed; use a Docker repository path without a host or tag: lowercase letters, digits, ".", "_", "-" and "/", e.g. timekit or timekit-test/ci`,
  );
  return undefined;
}

const MEMORY_UNIT: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A container memory limit (`256m`, `1g`) from 32m to 64g, in Docker's spelling. */
export function memoryLimit(raw: string | undefined, problems: Problems): string | undefined {
  if (raw === undefined) return undefined;
  const match = /^(\d+)([kmg])$/.exec(raw);
  const bytes = match ? Number(match[1]) * (MEMORY_UNIT[match[2] as string] ?? 0) : Number.NaN;
  if (bytes >= 32 * 1024 ** 2 && bytes <= 64 * 1024 ** 3) return raw;
  problems.push(
    `--mem_limit=${shown(raw)} is not allowed; use a whole number with k, m or g, from 32m to 64g (e.g. 256m)`,
  );
  return undefined;
}

/** A CPU limit: a decimal from 0.1 to the number of CPUs here. */
export function cpuLimit(raw: string | undefined, cpus: number, problems: Problems): string | undefined {
  if (raw === undefined) return undefined;
  const value = /^\d+(\.\d{1,2})?$/.test(raw) ? Number(raw) : Number.NaN;
  if (value >= 0.1 && value <= cpus) return raw.includes(".") ? raw : `${raw}.0`;
  problems.push(
    `--cpus=${shown(raw)} is not allowed; use a decimal from 0.1 to ${cpus} (the CPUs of this machine), e.g. 0.5`,
  );
  return undefined;
}

/** Compose project names: lowercase letters, digits, `-` and `_`, starting with a letter or digit. */
export function project(raw: string, problems: Problems): string {
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(raw)) {
    problems.push(
      `--project=${shown(raw)} is not allowed; use lowercase letters, digits, "-" and "_", starting with a letter or digit`,
    );
  }
  return raw;
}

/**
 * A KEY=VALUE file (blank lines and # comments allowed; `export ` and one pair of surrounding
 * quotes are dropped). Each entry goes through `check`, which names what is wrong with it (an
 * unknown setting, a value the service would refuse, a setting the deploy wires itself).
 */
export function envFile(
  flag: string,
  path: string,
  problems: Problems,
  check: (key: string, value: string) => string | null,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (!existsSync(path)) {
    problems.push(`--${flag}=${shown(path)}: no such file`);
    return env;
  }
  readFileSync(path, "utf8")
    .split(/\r?\n/)
    .forEach((line, index) => {
      const text = line.trim();
      if (text === "" || text.startsWith("#")) return;
      const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(text);
      const key = match?.[1];
      if (!key) {
        problems.push(`--${flag}: ${path}:${index + 1} is not KEY=VALUE`);
        return;
      }
      const raw = match[2] ?? "";
      const value = /^(["']).*\1$/.test(raw) ? raw.slice(1, -1) : raw;
      const problem = check(key, value);
      if (problem) {
        problems.push(`--${flag}: ${path}:${index + 1}: ${problem}`);
        return;
      }
      env[key] = value;
    });
  return env;
}

/** --additional_param_1 and its alias --replicas_service1: one setting, given once; undefined when neither is given. */
export function replicasFrom(
  primary: string | undefined,
  alias: string | undefined,
  problems: Problems,
): number | undefined {
  if (primary !== undefined && alias !== undefined && primary !== alias) {
    problems.push(
      `--additional_param_1=${primary} and --replicas_service1=${alias} disagree; they are the same setting, give one`,
    );
  }
  return integer(
    "additional_param_1",
    primary ?? alias,
    { min: 1, max: MAX_REPLICAS },
    `it is the service1 replica count, a whole number from 1 to ${MAX_REPLICAS}`,
    problems,
  );
}
