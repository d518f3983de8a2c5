/**
 * The one command-line parser. Flags are declared in citty's ArgsDef format; this reads argv
 * against a definition strictly (citty's own parser accepts unknown flags silently and keeps
 * `--bogus value` as a switch plus a stray word).
 *
 * Spellings: a flag's key is its name in lower case without `-` and `_`, so `--version_service1`,
 * `--version-service1`, `--version-service-1` and `--versionService1` are one flag. Values come
 * back keyed by the names written in the definition.
 *
 * Syntax: `--flag=value`, `--flag value`, switches `--flag`, `--flag=true|false`, `--no-flag`,
 * one-letter aliases `-f value`, positionals in declaration order, `--` ending flags. A switch never
 * takes the next word. Problems (unknown flag, a flag given twice, a missing or empty value, a
 * value outside an enum, a missing required flag, a stray word) are all collected, with one
 * suggestion each.
 */
import type { ArgDef, ArgsDef } from "citty";
import { UsageError } from "../errors";
import { closest } from "../suggest";

/** `version_service1`, `version-service-1`, `versionService1` → `versionservice1`. */
export function flagKey(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, "");
}

type ValueOf<D extends ArgDef> = D extends { type: "boolean" }
  ? boolean
  : D extends { type: "enum"; options: readonly (infer U extends string)[] }
    ? U
    : string;

type AlwaysPresent<D extends ArgDef> = D extends { type: "boolean" }
  ? true
  : D extends { default: string }
    ? true
    : D extends { required: true }
      ? true
      : false;

/** Parsed values keyed by definition name; switches default to false. */
export type Values<T extends ArgsDef> = {
  readonly [K in keyof T]: AlwaysPresent<T[K]> extends true ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};

export interface Parsed<T extends ArgsDef> {
  values: Values<T>;
  /** The flags the command line set (a switch too, even to false): for "unspecified means unchanged". */
  given: ReadonlySet<string>;
  /** Empty when the command line is well formed. */
  problems: string[];
}

interface Flag {
  name: string;
  def: ArgDef;
}

interface FlagTable {
  long: Map<string, Flag>;
  short: Map<string, Flag>;
  positionals: Flag[];
  names: string[];
}

function aliasesOf(def: ArgDef): string[] {
  if (!("alias" in def) || def.alias === undefined) return [];
  return Array.isArray(def.alias) ? def.alias : [def.alias];
}

/** The lookup table of a definition; two names that are one key are a programming error. */
export function flagTable(def: ArgsDef): FlagTable {
  const table: FlagTable = { long: new Map(), short: new Map(), positionals: [], names: [] };
  const addLong = (spelling: string, flag: Flag) => {
    const key = flagKey(spelling);
    const existing = table.long.get(key);
    if (existing && existing.name !== flag.name) {
      throw new Error(`flags --${existing.name} and --${flag.name} are the same flag once spelling is ignored`);
    }
    table.long.set(key, flag);
  };
  for (const [name, argDef] of Object.entries(def)) {
    const flag = { name, def: argDef };
    if (argDef.type === "positional") {
      table.positionals.push(flag);
      continue;
    }
    table.names.push(name);
    addLong(name, flag);
    for (const alias of aliasesOf(argDef)) {
      if (alias.length === 1) table.short.set(alias, flag);
      else addLong(alias, flag);
    }
  }
  return table;
}

/** True when `token` (`--name` without `=`) names a flag of `table` that takes the next word as its value. */
export function takesNextWord(table: FlagTable, token: string): boolean {
  if (!token.startsWith("-") || token.includes("=")) return false;
  const flag = token.startsWith("--") ? table.long.get(flagKey(token.slice(2))) : table.short.get(token.slice(1));
  return flag !== undefined && flag.def.type !== "boolean";
}

function unknownFlag(written: string, table: FlagTable): string {
  const guess = closest(written.replace(/^-+/, ""), table.names, flagKey);
  const hint = guess
    ? `did you mean --${guess}?`
    : table.names.length > 0
      ? `known flags: ${table.names.map((n) => `--${n}`).join(", ")}`
      : "this command takes no flags";
  return `unknown flag ${written}; ${hint}`;
}

function enumProblem(name: string, value: string, options: readonly string[]): string | undefined {
  if (options.includes(value)) return undefined;
  const guess = closest(value, options);
  return `--${name} must be one of ${options.join(", ")}; got ${JSON.stringify(value)}${guess ? ` (did you mean ${guess}?)` : ""}`;
}

export function parseFlags<const T extends ArgsDef>(def: T, argv: readonly string[]): Parsed<T> {
  const table = flagTable(def);
  const given = new Map<string, string | boolean>();
  const positionals: string[] = [];
  const problems: string[] = [];
  const set = (flag: Flag, value: string | boolean) => {
    if (given.has(flag.name)) problems.push(`--${flag.name} is given more than once`);
    else if (value === "") problems.push(`--${flag.name} needs a value`);
    else given.set(flag.name, value);
  };

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith("-") || token === "-") {
      positionals.push(token);
      continue;
    }
    const isLong = token.startsWith("--");
    const body = token.slice(isLong ? 2 : 1);
    const equals = body.indexOf("=");
    const written = equals === -1 ? body : body.slice(0, equals);
    const inline = equals === -1 ? undefined : body.slice(equals + 1);
    const display = `${isLong ? "--" : "-"}${written}`;

    const flag = isLong ? table.long.get(flagKey(written)) : table.short.get(written);
    if (!flag && isLong && /^no[-_]/i.test(written)) {
      const negated = table.long.get(flagKey(written.slice(3)));
      if (negated?.def.type === "boolean") {
        if (inline !== undefined) problems.push(`${display} takes no value`);
        else set(negated, false);
        continue;
      }
    }
    if (!flag) {
      problems.push(unknownFlag(display, table));
      continue;
    }
    if (flag.def.type === "boolean") {
      if (inline === undefined || inline === "true" || inline === "false") set(flag, inline !== "false");
      else
        problems.push(
          `--${flag.name} is a switch: give it alone, or as --${flag.name}=true|false; got ${JSON.stringify(inline)}`,
        );
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) {
        problems.push(`--${flag.name} needs a value`);
        continue;
      }
      value = next;
      i++;
    }
    set(flag, value);
  }

  const values: Record<string, unknown> = {};
  for (const [index, flag] of table.positionals.entries()) {
    const value = positionals[index] ?? flag.def.default;
    if (value === undefined && flag.def.required !== false) problems.push(`missing argument <${flag.name}>`);
    values[flag.name] = value;
  }
  const extra = positionals.slice(table.positionals.length);
  if (extra.length > 0) problems.push(`unexpected argument ${JSON.stringify(extra[0])}`);

  for (const name of table.names) {
    const argDef = def[name] as ArgDef;
    const value = given.get(name);
    if (value === undefined && argDef.required) problems.push(`--${name} is required`);
    if (typeof value === "string" && argDef.type === "enum" && "options" in argDef && argDef.options) {
      const problem = enumProblem(name, value, argDef.options);
      if (problem) problems.push(problem);
    }
    values[name] = value ?? argDef.default ?? (argDef.type === "boolean" ? false : undefined);
  }
  return { values: values as Values<T>, given: new Set(given.keys()), problems };
}

/** parseFlags for standalone scripts: every problem at once as a UsageError (exit 2). */
export function parseStrictArgs<const T extends ArgsDef>(def: T, argv: readonly string[]): Values<T> {
  const { values, problems } = parseFlags(def, argv);
  if (problems.length > 0) throw new UsageError(problems);
  return values;
}
