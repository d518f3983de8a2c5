import { afterAll, beforeAll, expect, test } from "bun:test";
import { ROOMY_UPSTREAM, type ServiceProcess, startService, stopAll } from "../integration/processes";
import { suiteToolsReady } from "../support/suite-tools";
import { recordReliability, residentBytes } from "./record";

const wrk = suiteToolsReady(import.meta.path) ? Bun.which("wrk") : null;

/** Stated bound: after warm-up, resident memory may grow by at most this much over the run. */
const MAX_GROWTH_BYTES = 32 * 1024 * 1024;
const SECONDS = Number(Bun.env.TIMEKIT_LOAD_SECONDS ?? 60);

let service1: ServiceProcess;
let service2: ServiceProcess;
beforeAll(async () => {
  if (!wrk) return;
  service1 = await startService("service1", { LOG_LEVEL: "warn" });
  service2 = await startService("service2", {
    SERVICE1_URL: service1.url,
    LOG_LEVEL: "warn",
    ...ROOMY_UPSTREAM,
  });
});
afterAll(() => (service1 ? stopAll([service1, service2]) : undefined));

function runWrk(url: string, seconds: number) {
  const result = Bun.spawnSync([wrk as string, "-t1", "-c16", `-d${seconds}s`, "--latency", url], { stdout: "pipe" });
  const text = result.stdout.toString();
  const number = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    text,
    requests: number(/(\d+) requests in/),
    non2xx: number(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: socketErrors ? socketErrors.slice(1).reduce((sum, value) => sum + Number(value), 0) : 0,
    rps: number(/Requests\/sec:\s+([\d.]+)/),
    p99: /99%\s+([\d.]+\w+)/.exec(text)?.[1] ?? "?",
  };
}

test.skipIf(!wrk)(
  `${SECONDS} s of steady load through service2: zero errors, bounded memory`,
  async () => {
    const url = `${service2.url}/v1/format?pattern=yyyy-MM-dd'T'HH:mm:ss&tz=Europe/Zagreb`;
    runWrk(url, 3);
    const before = await residentBytes(service2.process.pid);
    const run = runWrk(url, SECONDS);
    const after = await residentBytes(service2.process.pid);
    const growth = after - before;

    await recordReliability("steady-load", {
      seconds: SECONDS,
      requests: run.requests,
      errors: run.non2xx + run.socketErrors,
      requestsPerSecond: run.rps,
      p99: run.p99,
      rssBeforeMiB: Math.round(before / 2 ** 20),
      rssAfterMiB: Math.round(after / 2 ** 20),
      boundMiB: MAX_GROWTH_BYTES / 2 ** 20,
    });
    expect(run.requests).toBeGreaterThan(SECONDS * 100);
    expect(run.non2xx).toBe(0);
    expect(run.socketErrors).toBe(0);
    expect(growth).toBeLessThan(MAX_GROWTH_BYTES);
  },
  (SECONDS + 60) * 1000,
);
