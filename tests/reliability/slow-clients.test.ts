import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import { type ServiceProcess, startService, stopAll } from "../integration/processes";
import { recordReliability } from "./record";

const ROUNDS = 40;
const HANG_GUARD_MS = 10_000;

let service1: ServiceProcess;
let service2: ServiceProcess;
beforeAll(async () => {
  service1 = await startService("service1");
  service2 = await startService("service2", { SERVICE1_URL: service1.url });
});
afterAll(() => stopAll([service1, service2]));

test("slowloris: 200 connections trickling headers do not stop other clients being served", async () => {
  const sockets: Socket[] = [];
  for (let i = 0; i < 200; i++) {
    sockets.push(
      await Bun.connect({
        hostname: "127.0.0.1",
        port: service2.port,
        socket: { data() {}, error() {}, close() {} },
      }),
    );
  }
  for (const socket of sockets) socket.write("GET /v1/format HTTP/1.1\r\nHost: 127.0.0.1\r\n");

  // A fixed number of rounds, not a time window: a busy machine makes the run longer, not the
  // counts smaller. Each request has a generous hang guard; one that hits it counts as failed.
  let served = 0;
  let failed = 0;
  let slowest = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const socket of sockets) socket.write(`X-Slow-${round}: a\r\n`);
    const started = performance.now();
    const status = await fetch(`${service2.url}/v1/format`, { signal: AbortSignal.timeout(HANG_GUARD_MS) }).then(
      (response) => response.status,
      () => 0,
    );
    slowest = Math.max(slowest, performance.now() - started);
    if (status === 200) served++;
    else failed++;
    await Bun.sleep(50);
  }
  for (const socket of sockets) socket.end();

  await recordReliability("slowloris", {
    slowConnections: sockets.length,
    served,
    failed,
    slowestMs: Math.round(slowest),
  });
  expect(failed).toBe(0);
  expect(served).toBe(ROUNDS);
}, 60_000);
