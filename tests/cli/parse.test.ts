import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import { COMMANDS, commandIndex } from "../../lib/cli/main";
import { flagKey, parseFlags, parseStrictArgs } from "../../lib/cli/parse";
import { UsageError } from "../../lib/errors";
import { closest } from "../../lib/suggest";

const def = {
  version_service1: { type: "string", default: "dev" },
  additional_param_1: { type: "string", alias: ["replicas_service1"] },
  service: { type: "string", alias: "s" },
  mode: { type: "enum", options: ["fast", "safe"] },
  dry_run: { type: "boolean" },
  quiet: { type: "boolean", default: false },
} as const satisfies ArgsDef;

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error("expected a UsageError");
}

describe("flagKey: one key per flag, whatever the spelling", () => {
  const cases: Array<[string, string]> = [
    ["version_service1", "versionservice1"],
    ["version-service1", "versionservice1"],
    ["versionService1", "versionservice1"],
    ["version-service-1", "versionservice1"],
    ["additional_param_1", "additionalparam1"],
    ["additionalParam1", "additionalparam1"],
    ["dry-run", "dryrun"],
    ["dryRun", "dryrun"],
    ["DRY_RUN", "dryrun"],
    ["a", "a"],
  ];
  test.each(cases)("%s → %s", (input, key) => {
    expect(flagKey(input)).toBe(key);
  });
});

describe("parseStrictArgs accepts", () => {
  const cases: Array<[argv: string[], expected: Record<string, unknown>]> = [
    [[], { version_service1: "dev", dry_run: false, quiet: false }],
    [["--version_service1=1.2"], { version_service1: "1.2" }],
    [["--version-service1=1.2"], { version_service1: "1.2" }],
    [["--versionService1=1.2"], { version_service1: "1.2" }],
    [["--version-service-1", "1.2"], { version_service1: "1.2" }],
    [["--additional_param_1=5"], { additional_param_1: "5" }],
    [["--additionalParam1", "5"], { additional_param_1: "5" }],
    [["--replicas-service1=3"], { additional_param_1: "3" }],
    [["-s", "service1"], { service: "service1" }],
    [["-s=service2"], { service: "service2" }],
    [["--dry-run"], { dry_run: true }],
    [["--dryRun=true"], { dry_run: true }],
    [["--dry_run=false"], { dry_run: false }],
    [["--no-dry-run"], { dry_run: false }],
    [["--dryrun"], { dry_run: true }],
    [["--DRY_RUN"], { dry_run: true }],
    [["--mode=safe"], { mode: "safe" }],
    [["--service", "-"], { service: "-" }],
  ];
  test.each(cases)("%p", (argv, expected) => {
    expect(parseStrictArgs(def, argv)).toMatchObject(expected);
  });
});

describe("parseStrictArgs rejects with exit code 2 and a message naming the flag", () => {
  const cases: Array<[argv: string[], message: RegExp]> = [
    [["--servce=service1"], /^unknown flag --servce; did you mean --service\?$/],
    [["--version_servce1=1"], /unknown flag --version_servce1; did you mean --version_service1\?/],
    [["--ser=x"], /did you mean --service\?/],
    [["--version-service-1"], /--version_service1 needs a value/],
    [["--zzzzzz"], /unknown flag --zzzzzz; known flags: --version_service1, .*--quiet/],
    [["-x"], /unknown flag -x/],
    [["--no-service"], /unknown flag --no-service/],
    [["--dry-run=yes"], /--dry_run is a switch.*"yes"/],
    [["--no-dry-run=1"], /--no-dry-run takes no value/],
    [["--service"], /--service needs a value/],
    [["--service", "--quiet"], /--service needs a value/],
    [["--service="], /--service needs a value/],
    [["--service=a", "--service=b"], /--service is given more than once/],
    [["--service=a", "-s", "b"], /--service is given more than once/],
    [["--mode=quick"], /--mode must be one of fast, safe; got "quick"/],
    [["--mode=fsat"], /got "fsat" \(did you mean fast\?\)/],
    [["stray"], /unexpected argument "stray"/],
    [["--", "--service=x"], /unexpected argument "--service=x"/],
  ];
  test.each(cases)("%p", (argv, message) => {
    const error = usageError(() => parseStrictArgs(def, argv));
    expect(error.message).toMatch(message);
    expect(error.exitCode).toBe(2);
  });
});

describe("parseStrictArgs with positionals and required flags", () => {
  const withPositional = {
    target: { type: "positional", description: "where" },
    force: { type: "boolean" },
    token: { type: "string", required: true },
  } as const satisfies ArgsDef;

  test("assigns positionals in order and reads flags around them", () => {
    expect(parseStrictArgs(withPositional, ["--token=t", "prod", "--force"])).toEqual({
      target: "prod",
      token: "t",
      force: true,
    });
  });

  test("a missing required flag or positional is a usage error", () => {
    expect(usageError(() => parseStrictArgs(withPositional, ["prod"])).message).toBe("--token is required");
    expect(usageError(() => parseStrictArgs(withPositional, ["--token=t"])).message).toBe("missing argument <target>");
  });

  test("a command without flags says so", () => {
    expect(usageError(() => parseStrictArgs({}, ["--x"])).message).toBe(
      "unknown flag --x; this command takes no flags",
    );
  });

  test("two definitions that are one flag once spelling is ignored are a programming error", () => {
    expect(() => parseStrictArgs({ dry_run: { type: "boolean" }, dryRun: { type: "boolean" } }, [])).toThrow(
      /--dry_run and --dryRun are the same flag/,
    );
  });
});

describe("problems are collected, not thrown one at a time", () => {
  test("every problem of a command line at once", () => {
    const { problems } = parseFlags(def, ["--servce=x", "--mode=quick", "stray", "--dry-run=maybe"]);
    expect(problems).toEqual([
      "unknown flag --servce; did you mean --service?",
      '--dry_run is a switch: give it alone, or as --dry_run=true|false; got "maybe"',
      'unexpected argument "stray"',
      '--mode must be one of fast, safe; got "quick"',
    ]);
  });

  test("an enum value gets the nearest choice as a suggestion", () => {
    expect(usageError(() => parseStrictArgs(def, ["--mode=fsat"])).message).toBe(
      '--mode must be one of fast, safe; got "fsat" (did you mean fast?)',
    );
  });
});

describe("closest: the one suggestion helper", () => {
  const cases: Array<[string, string[], string | undefined]> = [
    ["stauts", ["up", "status", "history"], "status"],
    ["ser", ["service", "quiet"], "service"],
    ["readOnlyRootFilesytem", ["readOnlyRootFilesystem", "runAsUser"], "readOnlyRootFilesystem"],
    ["kubernetes", ["service1", "service2"], undefined],
    ["zzzz", ["up", "down"], undefined],
  ];
  test.each(cases)("%s → %s", (input, candidates, expected) => {
    expect(closest(input, candidates)).toBe(expected);
  });
});

/** Every spelling users may write of a flag's name. */
function spellings(name: string): string[] {
  const words = name.split("_");
  const camel = words.map((w, i) => (i === 0 ? w : `${w[0]?.toUpperCase()}${w.slice(1)}`)).join("");
  const kebab = words.join("-");
  const split = kebab.replace(/([a-z])(\d)/g, "$1-$2");
  return [...new Set([name, kebab, camel, split])];
}

/** A value each flag accepts, for the table below (the parser checks syntax and enums only). */
function sampleValue(def: { type?: string; options?: readonly string[] }): string | undefined {
  if (def.type === "boolean") return undefined;
  if (def.type === "enum") return def.options?.[0];
  return "some-value";
}

describe("every spelling of every flag of every command, as --flag=value and --flag value", () => {
  const rows = COMMANDS.flatMap((command) =>
    Object.entries(command.args).flatMap(([name, argDef]) =>
      spellings(name).map((spelling) => [command.name, name, spelling, argDef] as const),
    ),
  );
  test("the table covers every command that has flags (completion takes a shell name only)", () => {
    const withFlags = COMMANDS.filter((c) => Object.keys(c.args).length > 0).map((c) => c.name);
    expect(withFlags).toEqual(COMMANDS.map((c) => c.name).filter((name) => name !== "completion"));
    expect(new Set(rows.map(([command]) => command))).toEqual(new Set(withFlags));
    expect(rows.length).toBeGreaterThan(150);
  });
  test.each(rows)("%s --%s written --%s", (commandName, name, spelling, argDef) => {
    const command = COMMANDS.find((c) => c.name === commandName);
    if (!command) throw new Error(`no command ${commandName}`);
    const value = sampleValue(argDef as { type?: string; options?: readonly string[] });
    const required = Object.entries(command.args)
      .filter(([other, d]) => other !== name && d.required)
      .map(([other, d]) => `--${other}=${sampleValue(d as { type?: string; options?: readonly string[] })}`);
    const forms =
      value === undefined
        ? [[`--${spelling}`], [`--${spelling}=true`]]
        : [[`--${spelling}=${value}`], [`--${spelling}`, value]];
    for (const form of forms) {
      const { values, problems } = parseFlags(command.args, [...required, ...form]);
      expect(problems).toEqual([]);
      expect((values as Record<string, unknown>)[name]).toBe(value ?? true);
    }
  });
});

describe("the command name may come after flags, whatever they are", () => {
  const cases: Array<[string[], number]> = [
    [["--version-service-1", "v1.0", "--dry-run"], -1],
    [["--registry", "r", "status"], 2],
    [["--json", "status"], 1],
    [["status", "--json"], 0],
    [["--versionService1", "1.0", "up"], 2],
    [["--dry-run"], -1],
    [["--", "status"], -1],
  ];
  test.each(cases)("%p → %d", (argv, index) => {
    expect(commandIndex(argv)).toBe(index);
  });

  test("a flag has one type across every command, so the lookup above is never ambiguous", () => {
    const types = new Map<string, string>();
    for (const command of COMMANDS) {
      for (const [name, argDef] of Object.entries(command.args)) {
        const kind = argDef.type === "boolean" ? "switch" : "value";
        expect(`${name}:${types.get(flagKey(name)) ?? kind}`).toBe(`${name}:${kind}`);
        types.set(flagKey(name), kind);
      }
    }
  });
});
