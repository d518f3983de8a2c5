/**
 * The deploy lock under contention: 10 processes started together contend for one lock in each
 * of 50 rounds (every fifth round starts with a stale lock of a process that is gone, so they
 * also race to take it over). The log of who held the lock must never show two holders at once.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "timekit-lock-race-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WORKERS = 10;
const ROUNDS = 50;

test(`${WORKERS} processes started together, ${ROUNDS} rounds: never two holders of the deploy lock`, async () => {
  const state = join(dir, "state");
  const barrier = join(dir, "barrier");
  const log = join(dir, "holders.log");
  mkdirSync(state, { recursive: true });
  mkdirSync(barrier);
  writeFileSync(log, "");
  const worker = join(import.meta.dir, "fixtures", "lock-worker.ts");
  const procs = Array.from({ length: WORKERS }, () =>
    Bun.spawn([process.execPath, worker, state, barrier, log, String(ROUNDS)], {
      stdout: "inherit",
      stderr: "inherit",
    }),
  );
  const dead = Bun.spawnSync(["true"]).pid;
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 5 === 0) {
      const stale = {
        pid: dead,
        host: hostname(),
        bootId: null,
        startTicks: null,
        token: `stale-${round}`,
        command: "gone",
        since: "x",
      };
      writeFileSync(join(state, "deploy.lock"), JSON.stringify(stale));
    }
    writeFileSync(join(barrier, `go-${round}`), "");
    const deadline = Date.now() + 60_000;
    while (readdirSync(barrier).filter((f) => f.startsWith(`done-${round}-`)).length < WORKERS) {
      if (Date.now() > deadline) throw new Error(`round ${round} did not finish within 60 s`);
      if (procs.some((p) => p.exitCode !== null && p.exitCode !== 0)) throw new Error("a worker failed");
      await Bun.sleep(5);
    }
  }
  expect(await Promise.all(procs.map((p) => p.exited))).toEqual(Array(WORKERS).fill(0));

  let holder: string | null = null;
  let overlaps = 0;
  let entries = 0;
  for (const line of readFileSync(log, "utf8").split("\n").filter(Boolean)) {
    const [, event, pid] = line.split(" ");
    if (event === "enter") {
      entries++;
      if (holder !== null) overlaps++;
      holder = pid ?? null;
    } else {
      if (holder !== pid) overlaps++;
      holder = null;
    }
  }
  expect(overlaps).toBe(0);
  expect(entries).toBe(WORKERS * ROUNDS);
  expect(readdirSync(state).filter((f) => f.startsWith("deploy.lock"))).toEqual([]);
}, 180_000);
