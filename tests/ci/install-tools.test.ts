/**
 * scripts/ci/install-tools.ts as a process, with PATH cut down to what a machine would have.
 * Installing for real would need packages to be absent, and this machine is shared: the
 * install path is exercised with --dry-run, and a real run must find everything ready.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INSTALLED_TOOLS } from "../../lib/ci/tools";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const SCRIPT = join(REPO_ROOT, "scripts", "ci", "install-tools.ts");

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "timekit-install-tools-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A PATH directory holding only `commands` (symlinks to this machine's copies). */
function pathWith(name: string, commands: string[]): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const command of commands) symlinkSync(Bun.which(command) as string, join(dir, command));
  return dir;
}

async function installTools(args: string[], path = Bun.env.PATH ?? "") {
  const child = Bun.spawn([process.execPath, SCRIPT, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: path, HOME: Bun.env.HOME ?? "/root" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { stdout, stderr, exitCode };
}

describe("install-tools", () => {
  test("on this machine every tool is ready, and a second run changes nothing", async () => {
    for (const _ of [1, 2]) {
      const run = await installTools([]);
      expect(run.stdout).toContain(`install-tools: all ${INSTALLED_TOOLS.length} tools ready, nothing to install`);
      expect(run.exitCode).toBe(0);
    }
  });

  test("--check on a machine with none of them lists each missing command and the packages, exit 1", async () => {
    const bare = pathWith("bare", []);
    const run = await installTools(["--check"], bare);
    expect(run.exitCode).toBe(1);
    for (const tool of INSTALLED_TOOLS)
      expect(run.stdout).toContain(`install-tools: ${tool.command}: MISSING (apt ${tool.apt})`);
    expect(run.stderr).toContain(
      "missing; install with: apt-get install docker.io docker-compose docker-registry skopeo shellcheck yamllint prometheus wrk",
    );
  });

  test("an installed package counts as ready even when PATH lacks its directory (the parity test's case)", async () => {
    const dpkgOnly = pathWith("dpkg-only", ["dpkg-query"]);
    const run = await installTools(["--check", "--for=tests/reliability"], dpkgOnly);
    expect(run.stdout).toContain("install-tools: wrk: /usr/bin/wrk (apt wrk)");
    expect(run.stdout).toContain("install-tools: promtool: /usr/bin/promtool (apt prometheus)");
    expect(run.exitCode).toBe(0);
  });

  test("--dry-run prints the apt commands for what is missing, each package once, no service started", async () => {
    const aptOnly = pathWith("apt-only", ["apt-get"]);
    const run = await installTools(["--dry-run", "--for=tests/reliability/prometheus.test.ts"], aptOnly);
    expect(run.exitCode).toBe(0);
    // Debian's policy-rc.d hook keeps maintainer scripts from starting prometheus; one already
    // in place is left alone.
    if (!existsSync("/usr/sbin/policy-rc.d"))
      expect(run.stdout).toContain("printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d");
    expect(run.stdout).toContain("would run: apt-get update -qq");
    expect(run.stdout).toContain("would run: apt-get install -y -qq --no-install-recommends prometheus\n");
  });

  test("--cli adds what a deploy.ts subcommand needs, and with only --cli nothing else", async () => {
    const run = await installTools(["--dry-run", "--cli=up"], pathWith("apt-only-cli", ["apt-get"]));
    expect(run.exitCode).toBe(0);
    const install = run.stdout.split("\n").find((line) => line.includes("apt-get install")) ?? "";
    expect(install).toContain(" caddy");
    expect(install).not.toContain("prometheus");
    expect(install).not.toContain("wrk");
  });

  test("without apt-get it says what to install by hand", async () => {
    const run = await installTools(["--for=tests/reliability/steady-load.test.ts"], pathWith("no-apt", []));
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("apt-get is not available (Debian/Ubuntu only); install yourself: wrk");
  });

  test.each([
    [["--bogus"], "Unknown option '--bogus'"],
    [["--for=tests/no-such-suite"], "--for=tests/no-such-suite selects no test file"],
    [["--cli=nope"], "deploy.ts nope: not a subcommand (allowed: version, build"],
  ])("%p is a usage error (exit 2)", async (args, message) => {
    const run = await installTools(args);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain("usage: bun scripts/ci/install-tools.ts");
  });
});
