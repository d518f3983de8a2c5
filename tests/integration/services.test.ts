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

  test("--healthcheck exits 0 when /healthz answers on 127.0.0.1:$PORT and 1 when nothing does", async () => {
    const service1 = await start("service1");
    expect((await run("service1", ["--healthcheck"], { PORT: String(service1.port) })).code).toBe(0);
    expect((await run("service2", ["--healthcheck"], { PORT: String(freePort()) })).code).toBe(1);
  });

  test("--version prints the build info as JSON", async () => {
    const { code, stdout } = await run("service2", ["--version"], {});
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ service: "service2", commit: "dev" });
  });
});
