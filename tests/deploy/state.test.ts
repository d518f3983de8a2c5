/** The deploy lock and history as a library: exclusive, stale-aware, append-only. */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { DeployLock } from "../../lib/deploy/lock";
import { parseVersion } from "../../lib/deploy/versions";
import { DeployError } from "../../lib/errors";

const dir = mkdtempSync(join(tmpdir(), "timekit-deploy-state-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = { note: () => {} };

test("a second lock fails clearly while the first is held, and works after release", async () => {
  const first = new DeployLock(join(dir, "a"));
  await first.acquire("up", { waitMs: 0, force: false, ...quiet });
  const second = new DeployLock(join(dir, "a"));
  const error = await second.acquire("up", { waitMs: 300, force: false, ...quiet }).catch((e) => e);
  expect(error).toBeInstanceOf(DeployError);
  expect((error as DeployError).exitCode).toBe(1);
  expect((error as DeployError).message).toContain(`pid ${process.pid}`);
  expect((error as DeployError).fix).toContain("--force_unlock");
  first.unlock();
  await second.acquire("up", { waitMs: 0, force: false, ...quiet });
  second.unlock();
  expect(existsSync(second.file)).toBe(false);
});

test("a lock left by a process that is gone is taken over", async () => {
  const lock = new DeployLock(join(dir, "b"));
  const dead = Bun.spawnSync(["true"]).pid; // exited already
  writeFileSync(lock.file, JSON.stringify({ pid: dead, host: hostname(), command: "up", since: "x" }));
  const notes: string[] = [];
  await lock.acquire("up", { waitMs: 0, force: false, note: (l) => notes.push(l) });
  expect(notes.join()).toContain("that process is gone");
  lock.unlock();
});

test("--force_unlock takes a live lock", async () => {
  const held = new DeployLock(join(dir, "c"));
  await held.acquire("up", { waitMs: 0, force: false, ...quiet });
  const forced = new DeployLock(join(dir, "c"));
  await forced.acquire("up", { waitMs: 0, force: true, ...quiet });
  forced.unlock();
});

test("versions: accepted spellings and rejected ones", () => {
  expect(parseVersion("v1.0")).toEqual({ kind: "tag", tag: "1.0" });
  expect(parseVersion("1.2.3-rc.1")).toEqual({ kind: "tag", tag: "1.2.3-rc.1" });
  expect(parseVersion("dev")).toEqual({ kind: "dev" });
  for (const bad of ["", "1", "01.0", "1.2.3.4", "latest", "=1.2.3", "v", "1.0-rc"])
    expect(parseVersion(bad)).toBeNull();
});
