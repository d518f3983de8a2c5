/**
 * The deploy state as a library: the lock (exclusive, created whole, taken over only from a
 * holder that is provably gone), history (lines of the wrong shape skipped with one warning), the
 * state directory (no symlinks followed, files 0600, directories 0700).
 */
import { afterAll, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { History, type HistoryEntry } from "../../lib/deploy/history";
import { DeployLock } from "../../lib/deploy/lock";
import { startTicks } from "../../lib/deploy/processes";
import { StateDir } from "../../lib/deploy/state-dir";
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

test("the lock file is complete the moment it exists: who holds it, with pid and start time", async () => {
  const lock = new DeployLock(join(dir, "whole"));
  await lock.acquire("up compose", { waitMs: 0, force: false, ...quiet });
  const info = JSON.parse(readFileSync(lock.file, "utf8"));
  expect(info).toMatchObject({ pid: process.pid, host: hostname(), command: "up compose" });
  expect(info.startTicks).toBe(startTicks(process.pid));
  expect(statSync(lock.file).mode & 0o777).toBe(0o600);
  lock.unlock();
});

test("a lock left by a process that is gone is taken over", async () => {
  const lock = new DeployLock(join(dir, "b"));
  await lock.acquire("probe", { waitMs: 0, force: false, ...quiet });
  lock.unlock();
  const dead = Bun.spawnSync(["true"]).pid; // exited already
  writeFileSync(lock.file, JSON.stringify({ pid: dead, host: hostname(), command: "up", since: "x" }));
  const notes: string[] = [];
  await lock.acquire("up", { waitMs: 0, force: false, note: (l) => notes.push(l) });
  expect(notes.join()).toContain("that process is gone");
  lock.unlock();
});

test("a lock whose pid now belongs to another process (another start time) is taken over", async () => {
  const lock = new DeployLock(join(dir, "reused"));
  await lock.acquire("probe", { waitMs: 0, force: false, ...quiet });
  lock.unlock();
  const reused = {
    pid: process.pid,
    host: hostname(),
    startTicks: (startTicks(process.pid) ?? 0) + 1,
    token: "t",
    command: "up",
    since: "x",
  };
  writeFileSync(lock.file, JSON.stringify(reused));
  const notes: string[] = [];
  await lock.acquire("up", { waitMs: 0, force: false, note: (l) => notes.push(l) });
  expect(notes.join()).toContain("that process is gone");
  lock.unlock();
});

test("a lock that is not provably stale is never taken over: another host, an unreadable file", async () => {
  const lock = new DeployLock(join(dir, "foreign"));
  await lock.acquire("probe", { waitMs: 0, force: false, ...quiet });
  lock.unlock();
  for (const content of [
    JSON.stringify({ pid: 1, host: "elsewhere.example", command: "up", since: "x" }),
    "",
    "{not json",
  ]) {
    writeFileSync(lock.file, content);
    const error = await lock.acquire("up", { waitMs: 0, force: false, ...quiet }).catch((e) => e);
    expect(error).toBeInstanceOf(DeployError);
    expect((error as DeployError).fix).toContain("--force_unlock");
    expect(readFileSync(lock.file, "utf8")).toBe(content);
  }
});

test("--force_unlock takes a live lock", async () => {
  const held = new DeployLock(join(dir, "c"));
  await held.acquire("up", { waitMs: 0, force: false, ...quiet });
  const forced = new DeployLock(join(dir, "c"));
  await forced.acquire("up", { waitMs: 0, force: true, ...quiet });
  forced.unlock();
  held.unlock();
  expect(existsSync(forced.file)).toBe(false);
});

const entry = (version: string): HistoryEntry => ({
  time: "2026-01-01T00:00:00.000Z",
  action: "up",
  result: "ok",
  versions: { service1: version, service2: "1.0.0" },
  params: { service1: { replicas: 1, env: {} }, service2: { replicas: 1, env: {} } },
  images: { service1: `timekit/service1:${version}`, service2: "timekit/service2:1.0.0" },
  digests: { service1: null, service2: null },
  port: 8080,
  changed: ["service1"],
  durationMs: 1,
});

test("history lines of the wrong shape are skipped, with one warning naming them", async () => {
  const state = join(dir, "history");
  mkdirSync(state);
  const lines = [
    JSON.stringify(entry("1.0.0")),
    "null",
    "{}",
    '{"time":"x","action":"up"}',
    JSON.stringify({ ...entry("1.0.5"), params: { service1: { replicas: "two", env: {} } } }),
    "[1,2,3]",
    JSON.stringify(entry("1.1.0")),
    '{"time":"2026-01-01T00:0', // torn by a crash
  ];
  writeFileSync(join(state, "history.jsonl"), `${lines.join("\n")}\n`);
  const warnings: string[] = [];
  const history = new History(state, (line) => warnings.push(line));
  expect((await history.read()).map((e) => e.versions.service1)).toEqual(["1.1.0", "1.0.0"]);
  expect((await history.lastGood()).states.service1?.version).toBe("1.1.0");
  await history.read();
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain("skipped 6 line(s)");
  expect(warnings[0]).toContain("line 2, 3, 4, 5, 6, 8");
});

test("the state dir refuses symlinks: a linked directory or a linked history file is never followed", async () => {
  const victim = join(dir, "victim.txt");
  writeFileSync(victim, "precious\n");
  const linkedDir = join(dir, "root1", "project");
  mkdirSync(join(dir, "root1"));
  mkdirSync(join(dir, "elsewhere"));
  symlinkSync(join(dir, "elsewhere"), linkedDir);
  const error = (() => {
    try {
      new StateDir(linkedDir, join(dir, "root1")).write("history.jsonl", "x");
    } catch (e) {
      return e;
    }
  })();
  expect(error).toBeInstanceOf(DeployError);
  expect((error as DeployError).message).toContain("it is a symlink");

  const state = join(dir, "root2", "project");
  mkdirSync(state, { recursive: true });
  symlinkSync(victim, join(state, "history.jsonl"));
  const history = new History(new StateDir(state, join(dir, "root2")));
  const appended = await history.append(entry("6.6.6")).catch((e) => e);
  expect(appended).toBeInstanceOf(DeployError);
  expect(await history.read().catch((e) => e)).toBeInstanceOf(DeployError);
  expect(readFileSync(victim, "utf8")).toBe("precious\n");
});

test("state files are created 0600 and directories 0700", async () => {
  const root = join(dir, "modes");
  const state = new StateDir(join(root, "project"), root);
  state.write("journal.json", "{}");
  state.append("history.jsonl", "{}");
  expect(statSync(join(root, "project")).mode & 0o777).toBe(0o700);
  expect(statSync(state.file("journal.json")).mode & 0o777).toBe(0o600);
  expect(statSync(state.file("history.jsonl")).mode & 0o777).toBe(0o600);
});

test("versions: accepted spellings and rejected ones", () => {
  expect(parseVersion("v1.0")).toEqual({ kind: "tag", tag: "1.0" });
  expect(parseVersion("1.2.3-rc.1")).toEqual({ kind: "tag", tag: "1.2.3-rc.1" });
  expect(parseVersion("dev")).toEqual({ kind: "dev" });
  for (const bad of ["", "1", "01.0", "1.2.3.4", "latest", "=1.2.3", "v", "1.0-rc"])
    expect(parseVersion(bad)).toBeNull();
});
