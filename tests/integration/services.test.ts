import { afterAll, describe, expect, test } from "bun:test";
import { json } from "@timekit/runtime/testing";
import { ENTRYPOINTS, freePort, type ServiceProcess, startService, stopAll } from "./processes";

const started: ServiceProcess[] = [];
async function start(...args: Parameters<typeof startService>): Promise<ServiceProcess> {
  const service = await startService(...args);
  started.push(service);
  return service;
}
afterAll(() => stopAll(started));

async function pair(service2Env: Record<string, string> = {}) {
  const service1 = await start("service1");
  const service2 = await start("service2", { SERVICE1_URL: service1.url, ...service2Env });
  return { service1, service2 };
}

const postFormat = (url: string, body: unknown) =>
  fetch(`${url}/v1/format`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });

describe("two real processes", () => {
  test("service2 formats service1's time, and the request id is logged by both", async () => {
    const { service1, service2 } = await pair();
    const before = Date.now();
    const response = await fetch(`${service2.url}/v1/format?pattern=yyyy-MM-dd'T'HH:mm`, {
      headers: { "x-request-id": "it-chain-1" },
    });
    const after = Date.now();
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body.epochMs).toBeGreaterThanOrEqual(before);
    expect(body.epochMs).toBeLessThanOrEqual(after);
    expect(response.headers.get("x-request-id")).toBe("it-chain-1");
    const logged = (service: ServiceProcess, path: string) =>
      service.logs().some((line) => line.requestId === "it-chain-1" && line.path === path);
    // Logs are buffered and flushed every 200 ms.
    for (let i = 0; i < 40 && !(logged(service1, "/v1/timestamp") && logged(service2, "/v1/format")); i++) {
      await Bun.sleep(50);
    }
    expect(logged(service1, "/v1/timestamp")).toBe(true);
    expect(logged(service2, "/v1/format")).toBe(true);
  });

  test("service1 killed → 503 from the refused connection, not a wait for the timeout; POST /v1/format still served", async () => {
    // A 504 would mean service2 waited out its budget; 503 UNAVAILABLE comes only from the refusal.
    const { service1, service2 } = await pair({ SERVICE1_TIMEOUT_MS: "10000" });
    service1.process.kill("SIGKILL");
    await service1.exited;
    const response = await fetch(`${service2.url}/v1/format`);
    expect(response.status).toBe(503);
    expect((await json(response)).error.code).toBe("UPSTREAM_UNAVAILABLE");
    const post = await postFormat(service2.url, { epoch: 86400 });
    expect(post.status).toBe(200);
    expect((await json(post)).formatted).toBe("1970-01-02");
  });

  test("service1 frozen (SIGSTOP) → 504 within the timeout; it recovers after SIGCONT without a restart", async () => {
    const { service1, service2 } = await pair({ SERVICE1_TIMEOUT_MS: "400" });
    service1.process.kill("SIGSTOP");
    try {
      // The answer arrives while service1 is still stopped: the budget ended the wait, nothing else.
      const response = await fetch(`${service2.url}/v1/format`);
      expect(response.status).toBe(504);
      expect((await json(response)).error.message).toContain("did not answer within 400 ms");
      expect((await postFormat(service2.url, { epochMs: 0 })).status).toBe(200);
    } finally {
      service1.process.kill("SIGCONT");
    }
    let recovered = 0;
    for (let i = 0; i < 40 && recovered === 0; i++) {
      if ((await fetch(`${service2.url}/v1/format`)).status === 200) recovered++;
      else await Bun.sleep(100);
    }
    expect(recovered).toBe(1);
  });

  test("SIGTERM while requests are in flight: they complete, new connections are refused, exit 0", async () => {
    const { service1, service2 } = await pair({
      SERVICE1_TIMEOUT_MS: "8000",
      SERVICE1_ATTEMPT_TIMEOUT_MS: "8000",
      DRAIN_TIMEOUT_MS: "8000",
    });
    service1.process.kill("SIGSTOP");
    const inFlight = Array.from({ length: 5 }, () => fetch(`${service2.url}/v1/format`).then((r) => r.status));
    await Bun.sleep(300);
    service2.process.kill("SIGTERM");
    // However long the signal takes to land on a busy machine, new connections end up refused
    // while the stopped service1 still holds the in-flight requests (hang guard: 10 s).
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) {
      refused = await fetch(`${service2.url}/healthz`).then(
        () => false,
        () => true,
      );
      if (!refused) await Bun.sleep(100);
    }
    service1.process.kill("SIGCONT");
    expect(await Promise.all(inFlight)).toEqual([200, 200, 200, 200, 200]);
    expect(await service2.exited).toBe(0);
    expect(refused).toBe(true);
    const messages = service2.logs().map((line) => line.msg);
    expect(messages).toContain("draining");
    expect(messages.at(-1)).toBe("stopped");
  });

  test("SIGTERM right after a burst: every request's access-log line is written before exit", async () => {
    const { service1, service2 } = await pair();
    const ids: string[] = [];
    const send = async (worker: number) => {
      for (let i = 0; i < 150; i++) {
        const id = `burst-${worker}-${i}`;
        ids.push(id);
        const target = i % 2 === 0 ? `${service1.url}/v1/timestamp` : `${service2.url}/v1/format`;
        expect((await fetch(target, { headers: { "x-request-id": id } })).status).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, worker) => send(worker)));
    // Well inside the 200 ms flush interval: the last lines are still in the buffer.
    service1.process.kill("SIGTERM");
    service2.process.kill("SIGTERM");
    expect(await service1.exited).toBe(0);
    expect(await service2.exited).toBe(0);
    const logged = (service: ServiceProcess, path: string) =>
      service
        .logs()
        .filter((line) => line.msg === "request" && line.path === path)
        .map((line) => String(line.requestId));
    const service2Ids = logged(service2, "/v1/format");
    expect(service2Ids.sort()).toEqual(ids.filter((id) => Number(id.split("-")[2]) % 2 === 1).sort());
    // service1 logs the GETs sent to it straight and service2's calls (their ids, or joined ones).
    const service1Lines = service1.logs().filter((line) => line.msg === "request" && line.path === "/v1/timestamp");
    const service1Ids = new Set(
      service1Lines.flatMap((line) => [String(line.requestId), ...((line.joinedRequestIds as string[]) ?? [])]),
    );
    expect(ids.filter((id) => !service1Ids.has(id))).toEqual([]);
    expect(service1.logs().at(-1)?.msg).toBe("stopped");
  });

  test("the first /metrics scrape of a process shows every metric, with the requests served before it", async () => {
    const { service1, service2 } = await pair();
    for (let i = 0; i < 7; i++) await (await fetch(`${service2.url}/v1/format?tz=Europe/Zagreb`)).arrayBuffer();
    await (await fetch(`${service2.url}/nope`)).arrayBuffer();
    const text = await (await fetch(`${service2.url}/metrics`)).text();
    expect(text).toContain('http_requests_total{method="GET",route="/v1/format",status="200",service="service2"} 7');
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404",service="service2"} 1');
    expect(text).toMatch(/^upstream_requests_total\{operation="timestamp",outcome="ok",service="service2"\} [1-7]$/m);
    const families = [...text.matchAll(/^# TYPE (\S+) (\w+)/gm)].map((match) => match[1]);
    for (const family of [
      "http_requests_total",
      "http_request_duration_seconds",
      "upstream_requests_total",
      "upstream_request_duration_seconds",
      "upstream_endpoint_requests_total",
      "upstream_resolutions_total",
      "upstream_endpoints",
      "format_cache_resets_total",
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_seconds",
      "nodejs_gc_duration_seconds",
    ]) {
      expect(families).toContain(family);
    }
    const service1Text = await (await fetch(`${service1.url}/metrics`)).text();
    expect(service1Text).toMatch(
      /^http_requests_total\{method="GET",route="\/v1\/timestamp",status="200",service="service1"\} [1-7]$/m,
    );
  });

  test("/readyz answers 503 during the shutdown delay while /healthz stays 200", async () => {
    const service1 = await start("service1", { SHUTDOWN_DELAY_MS: "1500" });
    service1.process.kill("SIGTERM");
    await Bun.sleep(300);
    expect((await fetch(`${service1.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${service1.url}/healthz`)).status).toBe(200);
    expect(await service1.exited).toBe(0);
  });

  test("the epoch is right whatever TZ the process runs with", async () => {
    for (const tz of ["Europe/Zagreb", "America/Los_Angeles", "Asia/Kathmandu"]) {
      const service1 = await start("service1", { TZ: tz });
      const before = Date.now();
      const body = await json(await fetch(`${service1.url}/v1/timestamp`));
      const legacy = Number(await (await fetch(service1.url, { method: "POST", body: "timestamp" })).text());
      const after = Date.now();
      expect(body.epochMs).toBeGreaterThanOrEqual(before);
      expect(body.epochMs).toBeLessThanOrEqual(after);
      expect(Date.parse(body.iso)).toBe(body.epochMs);
      expect(body.iso).toEndWith("Z");
      expect(Math.abs(legacy - Math.floor(before / 1000))).toBeLessThanOrEqual(1);
    }
  });
});

describe("process contract", () => {
  async function run(service: keyof typeof ENTRYPOINTS, args: string[], env: Record<string, string>) {
    const child = Bun.spawn([process.execPath, ENTRYPOINTS[service], ...args], {
      env: { ...Bun.env, ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, stdout, stderr] = await Promise.all([
      child.exited,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    return { code, stdout, stderr };
  }

  test.each([
    ["service1", { PORT: "eighty" }, 'invalid environment variable PORT="eighty": expected an integer from 1 to 65535'],
    [
      "service1",
      { LOG_LEVEL: "chatty" },
      'invalid environment variable LOG_LEVEL="chatty": expected one of fatal, error, warn, info, debug, trace, silent',
    ],
    [
      "service2",
      { SERVICE1_URL: "service1:8080" },
      'invalid environment variable SERVICE1_URL="service1:8080": expected an http:// or https:// URL with a host',
    ],
    [
      "service2",
      { SERVICE1_RETRIES: "10" },
      'invalid environment variable SERVICE1_RETRIES="10": expected an integer from 0 to 5',
    ],
  ] as const)("%s with %p exits 2 with one line naming it", async (service, env, message) => {
    const { code, stderr } = await run(service, [], env);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(message);
  });

  test("an unknown argument exits 2 with the usage", async () => {
    const { code, stderr } = await run("service1", ["--serve-forever"], {});
    expect(code).toBe(2);
    expect(stderr).toContain("usage: <service> [--healthcheck | --probe=/PATH | --version]");
  });

  test("--probe=PATH prints the status and body of GET PATH on 127.0.0.1:$PORT; exit 0 only for 200", async () => {
    const service1 = await start("service1");
    const env = { PORT: String(service1.port) };
    const ok = await run("service1", ["--probe=/v1/timestamp"], env);
    expect(ok.code).toBe(0);
    const [status, ...body] = ok.stdout.split("\n");
    expect(status).toBe("HTTP 200");
    expect(Object.keys(JSON.parse(body.join("\n")))).toEqual(["epoch", "epochMs", "iso"]);
    const missing = await run("service1", ["--probe=/v1/nothing"], env);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toStartWith("HTTP 404\n");
    const nobody = await run("service2", ["--probe=/v1/format"], { PORT: String(freePort()) });
    expect(nobody.code).toBe(1);
    expect(nobody.stdout).toStartWith("HTTP 000\n");
  });

  test.each([["--probe=v1/timestamp"], ["--probe=//evil.example/x"], ["--probe=/a b"], ["--probe="]])(
    "%s is refused with exit 2 before any request",
    async (flag) => {
      const { code, stderr, stdout } = await run("service1", [flag], { PORT: String(freePort()) });
      expect(code).toBe(2);
      expect(stdout).toBe("");
      expect(stderr).toContain("is not allowed");
    },
  );

  test("--healthcheck exits 0 when /healthz answers on 127.0.0.1:$PORT, 1 when nothing does, 2 for a bad PORT", async () => {
    const service1 = await start("service1");
    expect((await run("service1", ["--healthcheck"], { PORT: String(service1.port) })).code).toBe(0);
    expect((await run("service2", ["--healthcheck"], { PORT: String(freePort()) })).code).toBe(1);
    // A PORT that is not a plain number goes to the settings schema, which names what is wrong.
    const bad = await run("service1", ["--healthcheck"], { PORT: "eighty" });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('invalid environment variable PORT="eighty": expected an integer from 1 to 65535');
  });

  test("--version prints the build info as JSON", async () => {
    const { code, stdout } = await run("service2", ["--version"], {});
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ service: "service2", commit: "dev" });
  });
});
