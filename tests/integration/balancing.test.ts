import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "@timekit/runtime";
import { captureLogger, testBuildInfo } from "@timekit/runtime/testing";
import { createApp } from "@timekit/service2";
import type { Endpoint, Resolve } from "@timekit/service2/endpoints";
import { settings } from "@timekit/service2/settings";
import { type ServiceProcess, startService, stopAll } from "./processes";

/**
 * Real service1 processes on loopback behind one name, as Compose replicas are behind `service1`:
 * the resolver handed to service2 answers with whatever `addresses` holds when asked.
 */
const RESOLVE_INTERVAL_MS = 200;
const NAME = "service1.test";

const replicas: ServiceProcess[] = [];
let addresses: Endpoint[] = [];
let lookups = 0;
const resolve: Resolve = async (hostname) => {
  if (hostname !== NAME) throw new Error(`unexpected lookup of ${hostname}`);
  lookups++;
  return [...addresses];
};

const log = captureLogger("service2");
const service2 = createApp({
  config: loadConfig(settings, {
    SERVICE1_URL: `http://${NAME}:8080`,
    SERVICE1_RESOLVE_INTERVAL_MS: String(RESOLVE_INTERVAL_MS),
    SERVICE1_TIMEOUT_MS: "3000",
    SERVICE1_ATTEMPT_TIMEOUT_MS: "1000",
  }),
  logger: log.logger,
  lifecycle: { state: "ready" },
  info: testBuildInfo("service2"),
  resolve,
});

async function addReplica(): Promise<ServiceProcess> {
  const replica = await startService("service1", { LOG_LEVEL: "warn" });
  replicas.push(replica);
  addresses.push({ address: "127.0.0.1", port: replica.port });
  return replica;
}

/** GET /v1/timestamp requests this replica has answered, from its own /metrics. */
async function served(replica: ServiceProcess): Promise<number> {
  if (replica.process.exitCode !== null || replica.process.signalCode !== null) return 0;
  const text = await (await fetch(`${replica.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith('http_requests_total{method="GET",route="/v1/timestamp"'));
  return Number(line?.split(" ").at(-1) ?? 0);
}

async function metric(pattern: RegExp): Promise<string[]> {
  const text = await (await service2.handle(new Request("http://localhost/metrics"))).text();
  return text.split("\n").filter((line) => pattern.test(line));
}

/** `count` calls to service2's GET /v1/format from `concurrency` callers; returns the statuses seen. */
async function callService2(count: number, concurrency = 4): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  let sent = 0;
  const caller = async () => {
    while (sent < count) {
      sent++;
      const response = await service2.handle(new Request("http://localhost/v1/format"));
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return statuses;
}

/** Waits (hang guard only) until service2 has looked the name up `more` more times. */
async function nextLookups(more = 1): Promise<void> {
  const target = lookups + more;
  for (let i = 0; i < 200 && lookups < target; i++) await Bun.sleep(RESOLVE_INTERVAL_MS / 4);
  expect(lookups).toBeGreaterThanOrEqual(target);
}

beforeAll(async () => {
  for (let i = 0; i < 3; i++) await addReplica();
  await nextLookups();
});
afterAll(() => stopAll(replicas));

describe("three service1 replicas behind one name", () => {
  test("10,000 calls: every replica gets 20–47% of them", async () => {
    const before = await Promise.all(replicas.map(served));
    // One caller at a time, so no two calls share an upstream call: 10,000 calls reach service1.
    const statuses = await callService2(10_000, 1);
    expect(statuses).toEqual({ 200: 10_000 });
    const counts = (await Promise.all(replicas.map(served))).map((count, i) => count - (before[i] ?? 0));
    const total = counts.reduce((sum, count) => sum + count, 0);
    console.log(`fairness: ${counts.join(" / ")} of ${total} calls`);
    expect(total).toBe(10_000);
    for (const count of counts) {
      expect(count / total).toBeGreaterThanOrEqual(0.2);
      expect(count / total).toBeLessThanOrEqual(0.47);
    }
    // service2 counts the same calls per address.
    for (const [i, replica] of replicas.entries()) {
      const [line] = await metric(
        new RegExp(`^upstream_endpoint_requests_total\\{endpoint="127.0.0.1:${replica.port}",outcome="ok"`),
      );
      expect(Number(line?.split(" ").at(-1))).toBeGreaterThanOrEqual(counts[i] ?? 0);
    }
  }, 120_000);

  test("a replica killed under load (still in DNS for a while) costs no caller an error; then it is dropped", async () => {
    const [victim] = replicas;
    if (!victim) throw new Error("no replica");
    const load = callService2(3_000, 8);
    await Bun.sleep(50);
    victim.process.kill("SIGKILL");
    await victim.exited;
    const statuses = await load;
    expect(statuses).toEqual({ 200: 3_000 });
    // Its connections failed and were retried on the others.
    const failed = await metric(
      new RegExp(`^upstream_endpoint_requests_total\\{endpoint="127.0.0.1:${victim.port}",outcome="failed"`),
    );
    expect(Number(failed[0]?.split(" ").at(-1) ?? 0)).toBeGreaterThan(0);

    // DNS stops naming it: the next lookup drops it, its metrics go with it.
    addresses = addresses.filter((address) => address.port !== victim.port);
    await nextLookups();
    expect(await metric(new RegExp(`endpoint="127.0.0.1:${victim.port}"`))).toEqual([]);
    expect(await metric(/^upstream_endpoints\{state="ready"/)).toEqual([
      'upstream_endpoints{state="ready",service="service2"} 2',
    ]);
    expect(await callService2(500)).toEqual({ 200: 500 });
    const changes = log.lines().filter((line) => line.msg === "service1 addresses changed");
    expect(changes.at(-1)).toMatchObject({ removed: [`127.0.0.1:${victim.port}`], total: 2 });
  }, 120_000);

  test("a replica added to DNS gets its share of calls from the next lookup on", async () => {
    const added = await addReplica();
    await nextLookups();
    const live = replicas.filter((replica) => replica.process.exitCode === null && replica.process.signalCode === null);
    expect(live).toHaveLength(3);
    const before = await Promise.all(live.map(served));
    expect(await callService2(3_000)).toEqual({ 200: 3_000 });
    const counts = (await Promise.all(live.map(served))).map((count, i) => count - (before[i] ?? 0));
    const total = counts.reduce((sum, count) => sum + count, 0);
    const share = (counts[live.indexOf(added)] ?? 0) / total;
    console.log(`new replica: ${counts.join(" / ")} of ${total}`);
    expect(share).toBeGreaterThanOrEqual(0.2);
    expect(share).toBeLessThanOrEqual(0.47);
  }, 120_000);
});
