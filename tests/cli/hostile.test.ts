/**
 * Hostile values of the issue "deploys that survive faults", in-process: every one is refused
 * with exit 2 and a line naming the file, line, setting and what is allowed, before anything runs
 * (no engine is asked: DOCKER_HOST points nowhere), with and without --dry-run. The Docker suite
 * (tests/faults/gate.test.ts) proves the other half: values reach containers literally, and the
 * deployer's shell variables do not reach the stack at all.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deploy } from "./support";

const dir = mkdtempSync(join(tmpdir(), "timekit-cli-hostile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** An engine address nothing answers on: a command that got past validation would fail with exit 1. */
const env = { DOCKER_HOST: "unix:///nonexistent/docker.sock", TIMEKIT_STATE_DIR: join(dir, "state") };

const cases: Array<[string, string, RegExp]> = [
  [
    "a variable that would expand the deployer's token",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text a hostile env file holds
    "SECRETISH=${GITHUB_TOKEN:-none}",
    /SECRETISH is not a service1 setting/,
  ],
  ["a dollar inside a value", "LOG_LEVEL=a$b", /invalid environment variable LOG_LEVEL="a\$b": expected one of fatal/],
  ["a command substitution", "MAX_BODY_BYTES=$(id)", /MAX_BODY_BYTES="\$\(id\)": expected an integer from 256/],
  ["a TAB inside a value", "LOG_LEVEL=info\tdebug", /LOG_LEVEL="info\\tdebug"/],
  ["a level the service would crash on", "LOG_LEVEL=verbose", /LOG_LEVEL="verbose": expected one of fatal/],
  [
    "a duration out of bounds",
    "DRAIN_TIMEOUT_MS=1",
    /DRAIN_TIMEOUT_MS="1": expected a duration in milliseconds from 100/,
  ],
  ["a wired setting", "HOST=0.0.0.0", /HOST is wired by the deploy itself/],
  [
    "a Bun runtime variable",
    "BUN_CONFIG_DNS_TIME_TO_LIVE_SECONDS=0",
    /BUN_CONFIG_DNS_TIME_TO_LIVE_SECONDS is not a service1 setting/,
  ],
];

for (const dryRun of [true, false]) {
  test.each(cases)(`%s: exit 2, named, nothing run${dryRun ? " (--dry-run)" : ""}`, async (_name, line, message) => {
    const file = join(dir, `hostile-${Math.random().toString(36).slice(2)}.env`);
    writeFileSync(file, `# comment\n${line}\n`);
    const r = await deploy([`--env_file_service1=${file}`, ...(dryRun ? ["--dry-run"] : [])], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--env_file_service1: ${file}:2: `);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain("Docker engine");
    expect(r.stdout).toBe("");
    // Nothing changed: no lock, journal or history row was written, not even the state dir made.
    expect(existsSync(env.TIMEKIT_STATE_DIR)).toBe(false);
  });
}

test("the same value as a flag is refused the same way", async () => {
  const r = await deploy(["--log_level_service1=verbose"], env);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--log_level_service1="verbose" is not allowed');
  expect(existsSync(env.TIMEKIT_STATE_DIR)).toBe(false);
});
