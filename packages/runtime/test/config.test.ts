import { describe, expect, test } from "bun:test";
import { Type } from "@sinclair/typebox";
import fc from "fast-check";
import { ConfigError, describeConfig, loadConfig, setting } from "../src/config";
import { plainPort } from "../src/own-port";
import { baseSettings } from "../src/settings";

const schema = Type.Object({
  ...baseSettings,
  URL: setting.httpUrl({ default: "http://service1:8080", description: "u" }),
});

describe("loadConfig", () => {
  test("unset and empty variables take the defaults", () => {
    const config = loadConfig(schema, { PORT: "", LOG_LEVEL: undefined });
    expect(config).toEqual({
      PORT: 8080,
      HOST: "0.0.0.0",
      LOG_LEVEL: "info",
      MAX_BODY_BYTES: 16384,
      SHUTDOWN_DELAY_MS: 0,
      DRAIN_TIMEOUT_MS: 8000,
      URL: "http://service1:8080",
    });
  });

  test.each([
    ["PORT", " 9090 ", 9090],
    ["LOG_LEVEL", "debug", "debug"],
    ["URL", "https://example.internal:8443/base", "https://example.internal:8443/base"],
    ["HOST", "::1", "::1"],
    ["DRAIN_TIMEOUT_MS", "100", 100],
  ])("%s=%p is accepted as %p", (name, raw, expected) => {
    expect(loadConfig(schema, { [name]: raw })[name as keyof typeof schema.properties]).toBe(expected as never);
  });

  test.each([
    ["PORT", "abc", "an integer from 1 to 65535"],
    ["PORT", "0", "an integer from 1 to 65535"],
    ["PORT", "65536", "an integer from 1 to 65535"],
    ["PORT", "80.5", "an integer from 1 to 65535"],
    ["LOG_LEVEL", "loud", "one of fatal, error, warn, info, debug, trace, silent"],
    ["URL", "ftp://x", "an http:// or https:// URL with a host"],
    ["URL", "not a url", "an http:// or https:// URL with a host"],
    ["DRAIN_TIMEOUT_MS", "5", "a duration in milliseconds from 100 to 120000"],
    ["HOST", "bad host!", "an IP address or host name"],
  ])("%s=%p is rejected naming the variable, the value and what is allowed", (name, raw, allowed) => {
    let error: unknown;
    try {
      loadConfig(schema, { [name]: raw });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      `invalid environment variable ${name}=${JSON.stringify(raw)}: expected ${allowed}`,
    );
  });
});

test("describeConfig lists every variable with its default and meaning", () => {
  const rows = describeConfig(schema);
  expect(rows.map((row) => row.variable)).toEqual(Object.keys(schema.properties));
  expect(rows.find((row) => row.variable === "PORT")).toEqual({
    variable: "PORT",
    default: "8080",
    allowed: "an integer from 1 to 65535",
    description: "TCP port the HTTP server listens on.",
  });
  for (const row of rows) expect(row.description.length).toBeGreaterThan(0);
});

describe("plainPort (PORT for --healthcheck, without the schema)", () => {
  const schemaPort = (raw: string | undefined): number | "refused" => {
    try {
      return loadConfig(Type.Object({ PORT: baseSettings.PORT }), { PORT: raw }).PORT;
    } catch (error) {
      if (error instanceof ConfigError) return "refused";
      throw error;
    }
  };

  test("every value it answers for, the schema gives the same port", () => {
    const portLike = fc.oneof(
      fc.integer({ min: -10, max: 70_000 }).map(String),
      fc
        .tuple(fc.constantFrom("", " ", "0", "00", "\t"), fc.nat(99_999), fc.constantFrom("", " ", "\n"))
        .map(([before, n, after]) => `${before}${n}${after}`),
      fc.string({ maxLength: 8 }),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(portLike, (raw) => {
        const plain = plainPort(raw);
        if (plain !== null) expect(schemaPort(raw)).toBe(plain);
      }),
      { numRuns: 2000 },
    );
  });

  test.each([
    [undefined, 8080],
    ["", 8080],
    [" 9090 ", 9090],
    ["65535", 65535],
    ["0", null],
    ["65536", null],
    ["80a", null],
    ["-1", null],
    ["1e3", null],
  ])("PORT=%p -> %p", (raw, port) => {
    expect(plainPort(raw)).toBe(port);
  });
});
