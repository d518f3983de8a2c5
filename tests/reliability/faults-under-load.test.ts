import { afterAll, expect, test } from "bun:test";
import { type ServiceProcess, startService, stopAll } from "../integration/processes";
import { recordReliability } from "./record";

const TIMEOUT_MS = 500;
/** A request still open after this long counts as status 0 (a hang), which every phase rejects. */
const HANG_GUARD_MS = 15_000;
const started: ServiceProcess[] = [];
afterAll(() => stopAll(started));

interface Tally {
  statuses: Record<number, number>;
  slowestMs: number;
  postFailures: number;
  posts: number;
}

/** Steady clients on GET /v1/format (needs service1) and POST /v1/format (does not) until stopped. */
function steadyLoad(url: string) {
  const tally: Tally = { statuses: {}, slowestMs: 0, postFailures: 0, posts: 0 };
  let running = true;
  const getter = async () => {
    while (running) {
      const begun = performance.now();
      const status = await fetch(`${url}/v1/format`, { signal: AbortSignal.timeout(HANG_GUARD_MS) }).then(
        (response) => response.status,
        () => 0,
      );
      tally.slowestMs = Math.max(tally.slowestMs, performance.now() - begun);
      tally.statuses[status] = (tally.statuses[status] ?? 0) + 1;
    }
  };
  const poster = async () => {
    while (running) {
      const response = await fetch(`${url}/v1/format`, {
        method: "POST",
        body: '{"epoch":0}',
        headers: { "content-type": "application/json" },
      }).catch(() => undefined);
      tally.posts++;
      if (response?.status !== 200) tally.postFailures++;
      await Bun.sleep(5);
    }
  };
  const clients = [getter(), getter(), getter(), poster()];
  return {
    tally,
    stop: async () => {
      running = false;
      await Promise.all(clients);
    },
  };
}

async function phase(url: string, fault: () => Promise<void> | void, seconds: number): Promise<Tally> {
  const load = steadyLoad(url);
  await fault();
  await Bun.sleep(seconds * 1000);
  await load.stop();
  return load.tally;
}

test("service1 killed, frozen and restarted under load: service2 answers 503/504 in time, keeps POST serving, recovers without a restart", async () => {
  let service1 = await startService("service1");
  started.push(service1);
  const port = String(service1.port);
  const service2 = await startService("service2", {
    SERVICE1_URL: service1.url,
    SERVICE1_TIMEOUT_MS: String(TIMEOUT_MS),
    SERVICE1_ATTEMPT_TIMEOUT_MS: "200",
  });
  started.push(service2);

  const healthy = await phase(service2.url, () => undefined, 2);
  const frozen = await phase(service2.url, () => void service1.process.kill("SIGSTOP"), 3);
  service1.process.kill("SIGCONT");
  const thawed = await phase(service2.url, () => undefined, 2);
  const killed = await phase(
    service2.url,
    async () => {
      service1.process.kill("SIGKILL");
      await service1.exited;
    },
    3,
  );
  const restarted = await phase(
    service2.url,
    async () => {
      service1 = await startService("service1", { PORT: port });
      started.push(service1);
    },
    3,
  );

  const figures = { healthy, frozen, thawed, killed, restarted };
  await recordReliability("faults-under-load", {
    timeoutMs: TIMEOUT_MS,
    ...Object.fromEntries(
      Object.entries(figures).map(([name, tally]) => [
        name,
        `${JSON.stringify(tally.statuses)} slowest ${Math.round(tally.slowestMs)} ms; POST ${tally.posts - tally.postFailures}/${tally.posts}`,
      ]),
    ),
    service2Restarts: 0,
  });

  // Healthy: nothing but 200.
  expect(Object.keys(healthy.statuses)).toEqual(["200"]);
  // Frozen: answers are 504 (or 200 from before the freeze), never a hang: each phase waits for
  // every request it sent before the next fault changes anything, so all of these answers came
  // while service1 was still stopped (a hang would show as status 0 from the hang guard).
  expect(frozen.statuses[504] ?? 0).toBeGreaterThan(0);
  expect(Object.keys(frozen.statuses).every((status) => ["200", "504"].includes(status))).toBe(true);
  // Killed: connections are refused, so 503 comes fast.
  expect(killed.statuses[503] ?? 0).toBeGreaterThan(0);
  expect(Object.keys(killed.statuses).every((status) => ["200", "503", "504"].includes(status))).toBe(true);
  // POST never needs service1 and never failed.
  for (const tally of Object.values(figures)) {
    expect(tally.posts).toBeGreaterThan(0);
    expect(tally.postFailures).toBe(0);
  }
  // Recovery without restarting service2: 200s again after the thaw and after the restart.
  expect(thawed.statuses[200] ?? 0).toBeGreaterThan(0);
  expect(restarted.statuses[200] ?? 0).toBeGreaterThan(0);
  expect(service2.process.exitCode).toBeNull();
}, 60_000);
