/**
 * The optional deploy file (`--file=deploy.yaml`): a YAML mapping of `up`'s flags to values, for
 * deploys that should repeat exactly (as Kamal's deploy.yml or a Helm values file). Its entries
 * become flags ahead of the command line and go through the same parser and checks, so a bad
 * value is the same exit 2 naming the file; a flag on the command line wins over the file. Paths
 * in it are relative to the file. Keys may be spelt as flags are (`version_service1`,
 * `version-service1`, `versionService1`).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import type { ArgsDef } from "citty";
import { parse } from "yaml";
import { closest } from "../suggest";
import { flagKey, flagTable } from "./parse";

/** Flags that make no sense in a file: what the file is, and how one run prints. */
const NOT_IN_FILE = new Set(["file", "dry_run", "json", "help"]);
/** Flags whose value is a path: relative to the deploy file, not to where the command runs. */
const PATHS = new Set(["env_file_service1", "env_file_service2", "from_archive", "state_dir"]);

/** Where `--file` points in `argv` (`--file=X` or `--file X`), or undefined. */
export function fileFlag(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? "";
    if (!token.startsWith("--")) continue;
    const [name, value] = token.slice(2).split(/=(.*)/s);
    if (flagKey(name ?? "") !== "file") continue;
    return value ?? argv[i + 1];
  }
  return undefined;
}

/** The deploy file's entries as flags (`--name=value`), leaving out what `argv` gives itself. */
export function fileFlags(
  path: string,
  def: ArgsDef,
  argv: readonly string[],
): { flags: string[]; problems: string[] } {
  const problems: string[] = [];
  const where = `--file=${JSON.stringify(path)}`;
  if (!existsSync(path)) return { flags: [], problems: [`${where}: no such file`] };
  let content: unknown;
  try {
    content = parse(readFileSync(path, "utf8"));
  } catch (error) {
    return { flags: [], problems: [`${where}: not valid YAML: ${(error as Error).message.split("\n")[0]}`] };
  }
  if (content === null || content === undefined) return { flags: [], problems: [] };
  if (typeof content !== "object" || Array.isArray(content)) {
    return {
      flags: [],
      problems: [`${where}: must be a mapping of up's flags to values, e.g. "version_service1: 1.2.3"`],
    };
  }
  const table = flagTable(def);
  const given = new Set(
    argv
      .filter((token) => token.startsWith("--"))
      .map((token) => {
        const name = token.slice(2).split("=")[0] ?? "";
        const flag =
          table.long.get(flagKey(name)) ?? (/^no[-_]/i.test(name) ? table.long.get(flagKey(name.slice(3))) : undefined);
        return flag?.name;
      })
      .filter((name) => name !== undefined),
  );
  const flags: string[] = [];
  for (const [key, value] of Object.entries(content as Record<string, unknown>)) {
    const flag = table.long.get(flagKey(key));
    if (!flag || NOT_IN_FILE.has(flag.name)) {
      const names = table.names.filter((name) => !NOT_IN_FILE.has(name));
      const guess = closest(key, names);
      problems.push(
        flag
          ? `${where}: ${key} cannot be set in a deploy file; give --${flag.name} on the command line`
          : `${where}: unknown setting "${key}"${guess ? `; did you mean ${guess}?` : ""} (keys are up's flags, as in bun deploy.ts up --help)`,
      );
      continue;
    }
    if (given.has(flag.name)) continue;
    if (flag.def.type === "boolean") {
      if (typeof value !== "boolean")
        problems.push(`${where}: ${key} is a switch; use true or false, got ${JSON.stringify(value)}`);
      else flags.push(value ? `--${flag.name}` : `--${flag.name}=false`);
      continue;
    }
    if (typeof value !== "string" && typeof value !== "number") {
      problems.push(`${where}: ${key} takes one value (a string or number), got ${JSON.stringify(value)}`);
      continue;
    }
    const text = String(value);
    const relative = PATHS.has(flag.name) && !isAbsolute(text);
    flags.push(`--${flag.name}=${relative ? resolve(dirname(path), text) : text}`);
  }
  return { flags, problems };
}
