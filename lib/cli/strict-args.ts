/**
 * Strict command-line parsing for citty commands.
 *
 * citty accepts unknown flags silently, keeps `--bogus value` as a boolean plus a stray
 * positional, and its own `required`/`enum` checks throw before `run()` (runMain then exits 1).
 * This module reads a command's `rawArgs` against the same `ArgsDef` and either returns every
 * value or throws a UsageError (exit code 2) naming the flag, with a suggestion.
 *
 * Spellings: `--a_b`, `--a-b` and `--aB` (and `--a-b-1` for `a_b1`) are the same flag; the
 * returned values are keyed by the names written in the ArgsDef, so read values from here, not
 * from citty's `args`, which only knows the spellings it derives itself.
 *
 * Syntax: `--flag=value`, `--flag value`, boolean `--flag`, `--flag=true|false`, `--no-flag`,
 * single-letter aliases `-f value`, positionals in declaration order, and `--` ending flags.
 * A flag given twice, an empty value, an unexpected positional and a missing required flag are
 * errors. Keep `required`/`enum` out of citty's view if its exit code 1 matters: check them with
 * `requireChoice`, or map citty's CLIError to 2 in the main.
 */
import type { ArgDef, ArgsDef } from "citty";

export class UsageError extends Error {
  readonly exitCode = 2;

  constructor(
    message: string,
    /** The flag as the user wrote it, when one is at fault. */
    readonly flag?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

/** `version_service1`, `version-service1`, `versionService1`, `version-service-1` → `version_service_1`. */
export function canonicalFlagName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Za-z])(\d)/g, "$1_$2")
    .replace(/(\d)([A-Za-z])/g, "$1_$2")
    .replace(/[-_]+/g, "_")
    .replace(/^_|_$/g, "")
    .toLowerCase();
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

/** Parsed values keyed by ArgsDef name; booleans default to false. */
export type StrictArgs<T extends ArgsDef> = {
  readonly [K in keyof T]: AlwaysPresent<T[K]> extends true ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};

interface FlagSpec {
  name: string;
  def: ArgDef;
}

function isBoolean(def: ArgDef): boolean {
  return def.type === "boolean";
}

function aliasesOf(def: ArgDef): string[] {
  if (!("alias" in def) || def.alias === undefined) return [];
  return Array.isArray(def.alias) ? def.alias : [def.alias];
}

function optionsOf(def: ArgDef): readonly string[] | undefined {
  return def.type === "enum" && "options" in def ? def.options : undefined;
}

interface FlagTable {
  long: Map<string, FlagSpec>;
  short: Map<string, FlagSpec>;
  positionals: FlagSpec[];
}

function flagTable(argsDef: ArgsDef): FlagTable {
  const table: FlagTable = { long: new Map(), short: new Map(), positionals: [] };
  const addLong = (spelling: string, spec: FlagSpec) => {
    const key = canonicalFlagName(spelling);
    const existing = table.long.get(key);
    if (existing && existing.name !== spec.name) {
      throw new Error(`flags --${existing.name} and --${spec.name} are the same flag once spelling is ignored`);
    }
    table.long.set(key, spec);
  };
  for (const [name, def] of Object.entries(argsDef)) {
    const spec = { name, def };
    if (def.type === "positional") {
      table.positionals.push(spec);
      continue;
    }
    addLong(name, spec);
    for (const alias of aliasesOf(def)) {
      if (alias.length === 1) table.short.set(alias, spec);
      else addLong(alias, spec);
    }
  }
  return table;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The candidate closest to `input`, if it is close enough to be what was meant. */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
  const wanted = canonicalFlagName(input);
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const key = canonicalFlagName(candidate);
    const distance = key.startsWith(wanted) && wanted.length >= 2 ? 0 : editDistance(wanted, key);
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  const tolerance = Math.max(2, Math.floor(wanted.length / 3));
  return best && best.distance <= tolerance ? best.candidate : undefined;
}

function unknownFlag(written: string, table: FlagTable): UsageError {
  const names = [...new Set([...table.long.values()].map((spec) => spec.name))];
  const bare = written.replace(/^-+/, "").replace(/=.*$/, "");
  const suggestion = closestMatch(bare, names);
  const hint = suggestion
    ? `did you mean --${suggestion}?`
    : names.length > 0
      ? `known flags: ${names.map((n) => `--${n}`).join(", ")}`
      : "this command takes no flags";
  return new UsageError(`unknown flag ${written.replace(/=.*$/, "")}; ${hint}`, written);
}

/** Throws a UsageError unless `value` is one of `choices`. */
export function requireChoice<C extends string>(flag: string, value: string, choices: readonly C[]): C {
  if ((choices as readonly string[]).includes(value)) return value as C;
  const suggestion = closestMatch(value, choices);
  const hint = suggestion ? ` (did you mean ${suggestion}?)` : "";
  return fail(`--${flag} must be one of ${choices.join(", ")}; got ${JSON.stringify(value)}${hint}`, `--${flag}`);
}

function fail(message: string, flag?: string): never {
  throw new UsageError(message, flag);
}

function booleanValue(spec: FlagSpec, inline: string | undefined): boolean {
  if (inline === undefined || inline === "true") return true;
  if (inline === "false") return false;
  return fail(
    `--${spec.name} is a switch: give it alone, or as --${spec.name}=true|false; got ${JSON.stringify(inline)}`,
    `--${spec.name}`,
  );
}

export function parseStrictArgs<const T extends ArgsDef>(argsDef: T, rawArgs: readonly string[]): StrictArgs<T> {
  const table = flagTable(argsDef);
  const values = new Map<string, string | boolean>();
  const positionals: string[] = [];
  const set = (spec: FlagSpec, value: string | boolean, written: string) => {
    if (values.has(spec.name)) fail(`--${spec.name} is given more than once`, written);
    if (value === "") fail(`--${spec.name} needs a value`, written);
    values.set(spec.name, value);
  };

  for (let i = 0; i < rawArgs.length; i++) {
    const token = rawArgs[i] as string;
    if (token === "--") {
      positionals.push(...rawArgs.slice(i + 1));
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

    const spec = isLong ? table.long.get(canonicalFlagName(written)) : table.short.get(written);
    if (!spec && isLong && /^no[-_]/i.test(written)) {
      const negated = table.long.get(canonicalFlagName(written.slice(3)));
      if (negated && isBoolean(negated.def)) {
        if (inline !== undefined) fail(`${display} takes no value`, display);
        set(negated, false, display);
        continue;
      }
    }
    if (!spec) throw unknownFlag(display, table);

    if (isBoolean(spec.def)) {
      set(spec, booleanValue(spec, inline), display);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = rawArgs[i + 1];
      if (next === undefined || next.startsWith("--")) fail(`--${spec.name} needs a value`, display);
      value = next;
      i++;
    }
    set(spec, value, display);
  }

  const result: Record<string, unknown> = {};
  for (const [index, spec] of table.positionals.entries()) {
    const value = positionals[index] ?? spec.def.default;
    if (value === undefined && spec.def.required !== false) fail(`missing argument <${spec.name}>`);
    result[spec.name] = value;
  }
  const extra = positionals.slice(table.positionals.length);
  if (extra.length > 0) fail(`unexpected argument ${JSON.stringify(extra[0])}`);

  for (const spec of new Set(table.long.values())) {
    const { name, def } = spec;
    const given = values.get(name);
    if (given === undefined && def.required) fail(`--${name} is required`, `--${name}`);
    const options = optionsOf(def);
    if (options && typeof given === "string") requireChoice(name, given, options);
    result[name] = given ?? def.default ?? (isBoolean(def) ? false : undefined);
  }
  return result as StrictArgs<T>;
}

/**
 * Prints a UsageError the way every deploy.ts command does and exits with its code (2).
 * `usage` replaces the default hint to run `<command> --help`.
 */
export function exitWithUsageError(error: UsageError, command: string, usage?: string): never {
  console.error(`${command}: ${error.message}`);
  console.error(usage ?? `run "${command} --help" for usage`);
  process.exit(error.exitCode);
}

/** parseStrictArgs for a command's `run({ rawArgs })`: a usage error ends the process with exit 2. */
export function parseStrictArgsOrExit<const T extends ArgsDef>(
  argsDef: T,
  rawArgs: readonly string[],
  command: string,
): StrictArgs<T> {
  try {
    return parseStrictArgs(argsDef, rawArgs);
  } catch (error) {
    if (error instanceof UsageError) exitWithUsageError(error, command);
    throw error;
  }
}
