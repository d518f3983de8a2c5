/**
 * A full disk under the state directory, for real: the state root is a 1 MiB tmpfs (mounting
 * needs root, which CI has; elsewhere the suite skips with the reason, except under CI=true).
 *
 * - Full before the deploy: the lock cannot even be written, so it stops with exit 1 and the
 *   stack, history and containers stay exactly as they were.
 * - Full after the stack changed (filled at the moment service1's new replicas are waited on):
 *   the next state write fails, the deploy puts back what ran before (exit 3) so the history
 *   still tells the truth (unchanged, or with the `rolled-back` row when the file's last page
 *   still had room for it); with space again, the same deploy passes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answers, cli, removeProject } from "../deploy/helpers";
import { deriveVersion, removeRunImages } from "../support/deploy-images";
import { freePort, requireDocker, run, uniqueName } from "../support/docker";
import { testImages } from "../support/images";
import { containers, DeployProcess, REPOSITORY, type Stack } from "./support";

const hasDocker = await requireDocker("deploy state on a full disk");
const isRoot = process.getuid?.() === 0;
if (hasDocker && !isRoot) {
  if (Bun.env.CI === "true") {
    test("a full state disk needs root to mount a tmpfs (CI=true)", () => {
      throw new Error("tests/faults/enospc.test.ts mounts a tmpfs: run it as root");
    });
  } else console.log("skipping deploy state on a full disk: mounting a tmpfs needs root");
}

/** Fills the filesystem of `dir` to the last byte. */
function fill(dir: string): void {
  const fd = openSync(join(dir, "filler"), "a");
  const chunk = Buffer.alloc(16 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
  try {
    const small = openSync(join(dir, "filler-tail"), "a");
    try {
      for (;;) writeSync(small, Buffer.alloc(512));
    } finally {
      closeSync(small);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  }
}

function unfill(dir: string): void {
  rmSync(join(dir, "filler"), { force: true });
  rmSync(join(dir, "filler-tail"), { force: true });
}

describe.skipIf(!hasDocker || !isRoot)("the deploy state on a full disk", () => {
  const mount = mkdtempSync(join(tmpdir(), "timekit-test-faults-enospc-"));
  const project = uniqueName("faults-enospc");
  let port = 0;
  let s: Stack;
  const deploy = cli({ TIMEKIT_STATE_DIR: mount });
  const history = () => readFileSync(join(mount, project, "history.jsonl"), "utf8");

  beforeAll(async () => {
    const mounted = await run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", mount]);
    if (mounted.exitCode !== 0) throw new Error(`mount tmpfs failed: ${mounted.stderr}`);
    mkdirSync(join(mount, project), { mode: 0o700 });
    port = freePort();
    s = {
      project,
      port,
      stateRoot: mount,
      deploy,
      up: (args, env) =>
        deploy([`--project=${project}`, `--local_repository=${REPOSITORY}`, `--port=${port}`, "--quiet", ...args], env),
      status: async () => JSON.parse((await deploy(["status", "--json", `--project=${project}`])).stdout),
      history: async () => [],
      destroy: async () => {},
    };
    const base = await testImages();
    for (const service of ["service1", "service2"] as const) {
      for (const version of ["1.0.0", "1.1.0"]) {
        await deriveVersion(base[service].id, `${REPOSITORY}/${service}:${version}`, version);
      }
    }
    const r = await s.up(["--version_service1=1.0.0", "--version_service2=1.0.0", "--additional_param_1=2"]);
    if (r.code !== 0) throw new Error(`first deploy failed: ${r.stderr}`);
  }, 600_000);

  afterAll(async () => {
    unfill(mount);
    await deploy(["down", `--project=${project}`, "--force_unlock", "--quiet"]);
    await removeProject(project);
    await run(["umount", mount]);
    rmSync(mount, { recursive: true, force: true });
    await removeRunImages();
  }, 180_000);

  test("full before the deploy: exit 1, nothing changed, history as it was", async () => {
    const before = await containers(project);
    const recorded = history();
    fill(mount);
    try {
      const r = await s.up(["--version_service1=1.1.0", "--version_service2=1.0.0", "--additional_param_1=2"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("ENOSPC");
      expect(r.stderr).toContain("fix: free space on the filesystem of the state directory");
      expect(await containers(project)).toEqual(before);
      expect(history()).toBe(recorded);
    } finally {
      unfill(mount);
    }
  }, 300_000);

  test("full after the stack changed: what ran is put back (exit 3), so history stays true; with space the deploy passes", async () => {
    const before = await containers(project);
    const recorded = history();
    const deployment = new DeployProcess(s, [
      "--version_service1=1.1.0",
      "--version_service2=1.0.0",
      "--additional_param_1=2",
    ]);
    try {
      expect(await deployment.started("service1.health")).toBe(true);
      fill(mount);
      const r = await deployment.done;
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("ENOSPC");
      expect(r.stderr).toContain("the old ones kept serving: service1 is back at 1.0.0 x2");
    } finally {
      unfill(mount);
    }
    expect(await containers(project)).toEqual(before);
    // History stays true: the earlier lines as they were, and at most the `rolled-back` row, which
    // names what runs again (a full tmpfs still takes an append that fits the file's last page).
    const now = history();
    expect(now.startsWith(recorded)).toBe(true);
    const added = now.slice(recorded.length).split("\n").filter(Boolean);
    expect(added.length).toBeLessThanOrEqual(1);
    for (const line of added) {
      expect(JSON.parse(line)).toMatchObject({ result: "rolled-back", versions: { service1: "1.0.0" }, changed: [] });
    }
    const st = await s.status();
    expect(st.journal).toBeUndefined();
    expect(st.services.service1).toMatchObject({ version: "1.0.0", replicas: 2, health: "healthy" });
    expect(await answers(port)).toBe(true);
    const again = await s.up(["--version_service1=1.1.0", "--version_service2=1.0.0", "--additional_param_1=2"]);
    expect(again.code).toBe(0);
    expect((await s.status()).services.service1.version).toBe("1.1.0");
  }, 300_000);
});
