import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import { canonicalFlagName, closestMatch, parseStrictArgs, requireChoice, UsageError } from "../../lib/cli/strict-args";

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

describe("canonicalFlagName", () => {
  const cases: Array<[string, string]> = [
    ["version_service1", "version_service_1"],
    ["version-service1", "version_service_1"],
    ["versionService1", "version_service_1"],
    ["version-service-1", "version_service_1"],
    ["additional_param_1", "additional_param_1"],
    ["additionalParam1", "additional_param_1"],
    ["dry-run", "dry_run"],
    ["dryRun", "dry_run"],
    ["DRY_RUN", "dry_run"],
    ["a", "a"],
  ];
  test.each(cases)("%s → %s", (input, canonical) => {
    expect(canonicalFlagName(input)).toBe(canonical);
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
    [["--dryrun"], /unknown flag --dryrun; did you mean --dry_run\?/],
    [["--ser=x"], /did you mean --service\?/],
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

describe("requireChoice and closestMatch", () => {
  test("returns a valid choice and suggests the nearest for a typo", () => {
    expect(requireChoice("service", "service2", ["service1", "service2"])).toBe("service2");
    const error = usageError(() => requireChoice("service", "servce2", ["service1", "service2"]));
    expect(error.message).toBe('--service must be one of service1, service2; got "servce2" (did you mean service2?)');
    expect(error.flag).toBe("--service");
  });

  test("offers nothing when nothing is close", () => {
    expect(closestMatch("kubernetes", ["service1", "service2"])).toBeUndefined();
  });
});
