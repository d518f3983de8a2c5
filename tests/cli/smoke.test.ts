/**
 * `bun deploy.ts` as users run it, in a real process: the entry point, the exit code reaching the
 * shell, stderr and stdout kept apart. Everything else about the CLI runs in-process (main.test.ts).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const stateDir = mkdtempSync(join(tmpdir(), "timekit-deploy-smoke-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

function deploy(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawnSync(["bun", "deploy.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, TIMEKIT_STATE_DIR: stateDir, REGISTRY: "", TIMEKIT_TARGET: "", ...env },
    stdout: "pipe",
    stderr: "pipe",
    timeout: 30_000,
  });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

test("a dry run prints the plan on stdout and exits 0; a flag before its value works in any spelling", () => {
  const r = deploy(["--version-service-1", "v1.0", "--dry-run", "--json", "--registry=127.0.0.1:5999/timekit"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).plan.services.service1.image).toBe("127.0.0.1:5999/timekit/service1:1.0");
});

test("no Docker engine answers: exit 1 with the fix, no stack trace", () => {
  const r = deploy(
    ["--project=timekit-test-noengine", "--version_service1=1.0.0", "--version_service2=1.0.0", "--quiet"],
    {
      DOCKER_HOST: "unix:///nonexistent.sock",
    },
  );
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("deploy: no Docker engine answers");
  expect(r.stderr).toContain("fix: start the Docker daemon");
  expect(r.stderr).not.toContain("    at ");
});

test("a usage error exits 2 through the shell", () => {
  const r = deploy(["stauts"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('unknown command "stauts"; did you mean "status"?');
});

test("bun run build: --help prints the usage; a misspelt flag exits 2 with it, no stack trace", () => {
  const build = (...args: string[]) => {
    const proc = Bun.spawnSync(["bun", "scripts/build.ts", ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
  };
  const help = build("--help");
  expect(help.code).toBe(0);
  expect(help.stdout).toStartWith("usage: bun run build [--service=all|service1|service2]");
  const wrong = build("--servce=service1");
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toStartWith("build: Unknown option '--servce'\nusage: bun run build");
  expect(wrong.stderr).not.toContain("    at ");
});
