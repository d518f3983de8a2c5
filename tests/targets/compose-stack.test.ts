/**
 * How ComposeStack runs a Compose command when Compose v1 loses a container it had listed (any
 * container of the engine removed between its `docker ps` and its inspect fails the command).
 * The Compose command here is a script that fails that way a given number of times, then passes.
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Progress } from "../../lib/deploy/progress";
import { StateDir } from "../../lib/deploy/state-dir";
import { DeployError } from "../../lib/errors";
import type { Io } from "../../lib/io";
import { type ComposeProject, composeArgv } from "../../lib/targets/compose-argv";
import { ComposeStack } from "../../lib/targets/compose-stack";

const dir = mkdtempSync(join(tmpdir(), "timekit-compose-stack-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VANISHED = "No such container: 6b93b48da46d08233a17aa0618a3d00d27f4fd164e6f560d8615d55ed4cbfb70";

/** A stack whose Compose command fails `failures` times with `message`, then passes; counts its runs. */
function stackFailing(name: string, failures: number, message: string) {
  const runs = join(dir, `${name}.runs`);
  writeFileSync(runs, "");
  const script = join(dir, `${name}.sh`);
  writeFileSync(
    script,
    [
      "#!/bin/sh",
      'if [ "$1" = version ]; then echo 1.29.2; exit 0; fi',
      `echo run >> '${runs}'`,
      `if [ "$(wc -l < '${runs}')" -le ${failures} ]; then echo '${message}' >&2; exit 1; fi`,
      "exit 0",
      "",
    ].join("\n"),
  );
  chmodSync(script, 0o755);
  const err: string[] = [];
  const io: Io = { stdout: () => {}, stderr: (text) => void err.push(text), env: { PATH: Bun.env.PATH }, tty: false };
  const stack = new ComposeStack(
    `p-${name}`,
    { composeFile: join(dir, "compose.yaml"), forcedCommand: script },
    new StateDir(join(dir, name), dir),
    io,
    new Progress(io, false),
  );
  stack.startDetecting();
  return { stack, err, runs: () => readFileSync(runs, "utf8").split("\n").filter(Boolean).length };
}

const up = (p: ComposeProject) => composeArgv.up(p, "service2", 1);

test("a converging command (up, down) that lost a container runs once more, and says so", async () => {
  const s = stackFailing("once", 1, VANISHED);
  await s.stack.compose(up, "starting service2");
  expect(s.runs()).toBe(2);
  expect(s.err.join("")).toContain(
    "starting service2: Compose lost a container that was removed while it read the engine; running it again",
  );
});

test("only once: a second loss fails with Compose's own words", async () => {
  const s = stackFailing("twice", 2, VANISHED);
  const failure = await s.stack.compose(up, "starting service2").catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(DeployError);
  expect((failure as Error).message).toContain("starting service2 failed (compose exit 1):");
  expect((failure as Error).message).toContain(VANISHED);
  expect(s.runs()).toBe(2);
});

test("a command that does not converge (a canary's `run --name`) and any other failure run once", async () => {
  const canary = stackFailing("canary", 1, VANISHED);
  const run = (p: ComposeProject) => composeArgv.canary(p, "service1", "p-canary-service1-1");
  await expect(canary.stack.compose(run, "starting a service1 canary")).rejects.toThrow(VANISHED);
  expect(canary.runs()).toBe(1);
  const other = stackFailing("other", 1, "Bind for 127.0.0.1:8080 failed: port is already allocated");
  await expect(other.stack.compose(up, "starting the edge")).rejects.toThrow("port is already allocated");
  expect(other.runs()).toBe(1);
});
