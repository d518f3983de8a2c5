/** lib/exec.ts: the one runner, as every caller relies on it. */
import { expect, test } from "bun:test";
import { CommandFailed } from "../lib/errors";
import { run, runChecked } from "../lib/exec";

/** Built, not written out, so the suites' tool scan (lib/ci/tools.ts) does not take it for a tool. */
const MISSING_PROGRAM = ["timekit", "no-such-program"].join("-");

test("arguments reach the program literally: no interpolation, no word splitting", async () => {
  const result = await run(["printf", "%s|", "a b", "$(id)", "it's", "`x`", "$HOME", "*"]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toBe("a b|$(id)|it's|`x`|$HOME|*|");
});

test("the environment is exactly what the caller hands over, plus SHLVL", async () => {
  const result = await run(["env"], { env: { ONLY_THIS: "1", PATH: process.env.PATH } });
  const names = result.stdout
    .trim()
    .split("\n")
    .map((line) => line.split("=")[0])
    .sort();
  expect(names).toEqual(["ONLY_THIS", "PATH", "PWD", "SHLVL"]);
});

test("a program that is missing, or cannot start, is exit 127 with a reason", async () => {
  const missing = await run([MISSING_PROGRAM]);
  expect([missing.exitCode, missing.stderr]).toEqual([127, expect.stringContaining("timekit-no-such-program")]);
  const badCwd = await run(["true"], { cwd: "/timekit-no-such-dir" });
  expect(badCwd.exitCode).toBe(127);
  expect(badCwd.stderr).toContain("ENOENT");
});

test("a timeout kills the program itself and says so", async () => {
  const result = await run(["sleep", "30"], { timeoutMs: 200 });
  expect([result.exitCode, result.timedOut]).toEqual([null, true]);
  expect(result.durationMs).toBeLessThan(20_000);
});

test("an abort signal kills the program", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const result = await run(["sleep", "30"], { signal: controller.signal });
  expect([result.exitCode, result.timedOut]).toEqual([null, false]);
});

test("input goes to stdin; output lines arrive as they are written, both streams", async () => {
  expect((await run(["cat"], { input: "one\ntwo" })).stdout).toBe("one\ntwo");
  const lines: string[] = [];
  await run(["sh", "-c", "echo one; echo two >&2; printf three"], {
    onLine: (line, stream) => lines.push(`${stream}:${line}`),
  });
  expect(lines.sort()).toEqual(["stderr:two", "stdout:one", "stdout:three"]);
});

test("runChecked throws CommandFailed with the exit code and the output's last lines", async () => {
  const failure = await runChecked(["sh", "-c", "echo detail >&2; exit 3"], { what: "the step" }).catch(
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(CommandFailed);
  expect(String((failure as Error).message)).toContain("detail");
});
