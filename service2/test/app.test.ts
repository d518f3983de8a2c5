import { afterAll, describe, expect, test } from "bun:test";
import { treaty } from "@elysiajs/eden";
import { loadConfig } from "@timekit/runtime";
import { captureLogger, json, testBuildInfo } from "@timekit/runtime/testing";
import { createApp as createService1 } from "@timekit/service1";
import { settings as service1Settings } from "@timekit/service1/settings";
import fc from "fast-check";
import { createApp } from "../src/app";
import type { Resolve } from "../src/endpoints";
import { settings } from "../src/settings";

const NOW = Date.UTC(2025, 9, 28, 23, 30, 0, 0);

/** The real service1 app, reached through its handler instead of a socket. */
function inProcessService1() {
  const log = captureLogger("service1");
  const app = createService1({
    config: loadConfig(service1Settings, {}),
    logger: log.logger,
    lifecycle: { state: "ready" },
    info: testBuildInfo("service1"),
    now: () => NOW,
  });
  let calls = 0;
  const fetch = ((input: string | URL | Request, init?: RequestInit) => {
    calls++;
    return app.handle(new Request(input instanceof URL ? input.href : (input as string), init));
  }) as typeof globalThis.fetch;
  return { fetch, log, calls: () => calls };
}

/** Unit tests never ask a real resolver: service1.test is this machine. */
const resolve: Resolve = async (hostname, port) => {
  if (hostname !== "service1.test") throw new Error(`unexpected lookup of ${hostname}`);
  return [{ address: "127.0.0.1", port }];
};

function makeService2(env: Record<string, string> = {}, fetch?: typeof globalThis.fetch) {
  const log = captureLogger("service2");
  const app = createApp({
    config: loadConfig(settings, { SERVICE1_URL: "http://service1.test:8080", ...env }),
    logger: log.logger,
    lifecycle: { state: "ready" },
    info: testBuildInfo("service2"),
    fetch,
    resolve,
  });
  return { app, log };
}

async function call(app: ReturnType<typeof makeService2>["app"], path: string, init?: RequestInit) {
  const response = await app.handle(new Request(`http://localhost${path}`, init));
  await Bun.sleep(1);
  return response;
}

const postJson = (body: unknown): RequestInit => ({
  method: "POST",
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" },
});

describe("GET /v1/format asks service1", () => {
  test("defaults: yyyy-MM-dd in UTC, en-US", async () => {
    const service1 = inProcessService1();
    const api = treaty(makeService2({}, service1.fetch).app, { parseDate: false });
    const { data, status } = await api.v1.format.get({ query: {} });
    expect(status).toBe(200);
    expect(data).toEqual({ formatted: "2025-10-28", epochMs: NOW, pattern: "yyyy-MM-dd", tz: "UTC", locale: "en-US" });
    expect(service1.calls()).toBe(1);
  });

  test("pattern, zone and locale apply to service1's instant", async () => {
    const { app } = makeService2({}, inProcessService1().fetch);
    const query = new URLSearchParams({ pattern: "EEEE d MMMM yyyy HH:mm", tz: "Europe/Zagreb", locale: "hr-HR" });
    const body = await json(await call(app, `/v1/format?${query}`));
    expect(body.formatted).toBe("srijeda 29 listopada 2025 00:30");
  });

  test("the request id reaches service1 and comes back", async () => {
    const service1 = inProcessService1();
    const { app, log } = makeService2({}, service1.fetch);
    const response = await call(app, "/v1/format", { headers: { "x-request-id": "chain-7" } });
    expect(response.headers.get("x-request-id")).toBe("chain-7");
    expect(service1.log.lines().find((line) => line.path === "/v1/timestamp")?.requestId).toBe("chain-7");
    expect(log.lines().find((line) => line.path === "/v1/format")?.requestId).toBe("chain-7");
  });

  test.each([
    ["pattern=YYYY", "INVALID_PATTERN", "pattern: "],
    ["tz=Nowhere/City", "INVALID_TZ", "tz: "],
    ["locale=zz-ZZ", "INVALID_LOCALE", "locale: "],
    [`pattern=${"y".repeat(65)}`, "INVALID_REQUEST", "query field 'pattern'"],
  ])("%s → 400 naming the field", async (query, code, message) => {
    const { app } = makeService2({}, inProcessService1().fetch);
    const response = await call(app, `/v1/format?${query}`);
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body.error.code).toBe(code);
    expect(body.error.message).toContain(message);
  });
});

describe("POST /v1/format", () => {
  test.each([
    [{ epoch: 1761660634 }, "2025-10-28"],
    [{ epochMs: 1761660634123, pattern: "HH:mm:ss.SSS", tz: "Asia/Tokyo" }, "23:10:34.123"],
    [{ iso: "2025-12-31T23:30:00-05:00", pattern: "yyyy-MM-dd", tz: "UTC" }, "2026-01-01"],
    [
      { iso: "2025-10-28T14:10:34Z", pattern: "d. MMMM yyyy.", tz: "Europe/Zagreb", locale: "hr" },
      "28. listopada 2025.",
    ],
  ])("%p → %p without calling service1", async (input, formatted) => {
    const service1 = inProcessService1();
    const { app } = makeService2({}, service1.fetch);
    const response = await call(app, "/v1/format", postJson(input));
    expect(response.status).toBe(200);
    expect((await json(response)).formatted).toBe(formatted);
    expect(service1.calls()).toBe(0);
  });

  test.each([
    [{}, "INVALID_TIMESTAMP", "exactly one of epoch, epochMs or iso"],
    [{ epoch: 1, epochMs: 2 }, "INVALID_TIMESTAMP", "got epoch and epochMs"],
    [{ epoch: "soon" }, "INVALID_REQUEST", "body field 'epoch'"],
    [{ epoch: 1.5 }, "INVALID_REQUEST", "body field 'epoch'"],
    [{ iso: "not a date" }, "INVALID_ISO", "iso: "],
    [{ epoch: 1, colour: "red" }, "INVALID_REQUEST", "body field 'colour'"],
    [{ epoch: 1, tz: "Moon/Base" }, "INVALID_TZ", "tz: "],
    [[1, 2], "INVALID_REQUEST", "body"],
  ])("%p → 400 %s", async (input, code, message) => {
    const { app } = makeService2({}, inProcessService1().fetch);
    const response = await call(app, "/v1/format", postJson(input));
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body.error.code).toBe(code);
    expect(body.error.message).toContain(message);
  });
});

describe("every bad input is a 400 naming the field, through GET and POST", () => {
  const BAD_OPTIONS: [field: string, value: string, message: string][] = [
    ["tz", "system", "tz: 'system' would mean this server's own zone"],
    ["tz", "local", "tz: 'local' would mean this server's own zone"],
    ["tz", "default", "tz: 'default' would mean this server's own zone"],
    ["tz", "UTC+99", "tz: 'UTC+99' is not a time zone"],
    ["tz", "UTC+14:30", "tz: 'UTC+14:30' is not an offset this server accepts"],
    ["tz", "Mars/Base", "tz: 'Mars/Base' is not a time zone this server knows"],
    ["tz", "", "tz: must be 1 to 64 characters"],
    ["locale", "en-x-abcdefgh", "locale: 'en-x-abcdefgh' is not a locale this server accepts"],
    ["locale", "th-TH-u-nu-thai", "locale: 'th-TH-u-nu-thai' is not a locale this server accepts"],
    ["locale", "en_US", "locale: 'en_US' is not a locale this server accepts (subtags are joined by '-', not '_')"],
    ["locale", "zz-ZZ", "locale: 'zz-ZZ' is not a locale this server can format in"],
    ["pattern", "YYYY", "pattern: unknown date field 'YYYY' at position 1"],
    ["pattern", "yyyy 'open", "pattern: has an unclosed single quote"],
  ];

  test.each(BAD_OPTIONS)("GET %s=%p → 400: %s", async (field, value, message) => {
    const { app } = makeService2({}, inProcessService1().fetch);
    const response = await call(app, `/v1/format?${new URLSearchParams({ [field]: value })}`);
    expect(response.status).toBe(400);
    const { error } = await json(response);
    expect(error.code).toBe(`INVALID_${field.toUpperCase()}`);
    expect(error.message).toStartWith(message);
  });

  test.each(BAD_OPTIONS)("POST %s=%p → 400: %s", async (field, value, message) => {
    const { app } = makeService2({}, inProcessService1().fetch);
    const response = await call(app, "/v1/format", postJson({ epoch: 0, [field]: value }));
    expect(response.status).toBe(400);
    const { error } = await json(response);
    expect(error.code).toBe(`INVALID_${field.toUpperCase()}`);
    expect(error.message).toStartWith(message);
  });

  test.each([
    [
      { epoch: "1" },
      "body field 'epoch': must be an integer from -8640000000000 to 8640000000000 (a JSON number, not a string); got the string \"1\"",
    ],
    [
      { epochMs: "1761660634000" },
      "body field 'epochMs': must be an integer from -8640000000000000 to 8640000000000000 (a JSON number, not a string); got the string \"1761660634000\"",
    ],
    [
      { epoch: 1.5 },
      "body field 'epoch': must be an integer from -8640000000000 to 8640000000000 (a JSON number, not a string); got 1.5",
    ],
    [
      { epoch: 1e15 },
      "body field 'epoch': must be an integer from -8640000000000 to 8640000000000 (a JSON number, not a string); got 1000000000000000",
    ],
    [
      { epoch: null },
      "body field 'epoch': must be an integer from -8640000000000 to 8640000000000 (a JSON number, not a string); got null",
    ],
    [
      { epoch: true },
      "body field 'epoch': must be an integer from -8640000000000 to 8640000000000 (a JSON number, not a string); got true",
    ],
    [{ iso: 20251028 }, "body field 'iso': must be a string of 0 to 64 characters; got 20251028"],
    [{ epoch: 1, tz: 7 }, "body field 'tz': must be a string of 0 to 64 characters; got 7"],
    [
      { epoch: 1, tz: "x".repeat(65) },
      "body field 'tz': must be a string of 0 to 64 characters; got a string of 65 characters",
    ],
    [
      { epoch: 1, colour: "red" },
      "body field 'colour': is not a known field; allowed: epoch, epochMs, iso, pattern, tz, locale",
    ],
    [[1, 2], "body: must be a JSON object; got an array"],
    ["1761660634", 'body: must be a JSON object; got the string "1761660634"'],
  ])("POST %p → 400 INVALID_REQUEST: %s", async (input, message) => {
    const { app } = makeService2({}, inProcessService1().fetch);
    const response = await call(app, "/v1/format", postJson(input));
    expect(response.status).toBe(400);
    expect((await json(response)).error).toEqual({ code: "INVALID_REQUEST", message });
  });

  test("a query value over its length limit names the field", async () => {
    const { app } = makeService2({}, inProcessService1().fetch);
    const response = await call(app, `/v1/format?pattern=${"y".repeat(65)}`);
    expect(response.status).toBe(400);
    expect((await json(response)).error).toEqual({
      code: "INVALID_REQUEST",
      message: "query field 'pattern': must be a string of 0 to 64 characters; got a string of 65 characters",
    });
  });
});

describe("legacy route /", () => {
  test.each([
    ["POST", "iso", 200, "2025-10-28\n"],
    ["POST", "timestamp", 200, "2025-10-28\n"],
    ["POST", "", 200, "2025-10-28\n"],
    ["POST", " timestamp \nrest", 200, "2025-10-28\n"],
    ["GET", undefined, 200, "2025-10-28\n"],
    ["POST", "foo", 400, "unknown word: send 'iso', 'timestamp' or an empty body\n"],
  ])("%s %p → %i %p", async (method, body, status, text) => {
    const { app } = makeService2({}, inProcessService1().fetch);
    const response = await call(app, "/", { method, body, headers: { "content-type": "text/plain" } });
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toStartWith("text/plain");
    expect(await response.text()).toBe(text);
  });
});

/** Real HTTP servers on loopback that misbehave the ways a broken service1 can. */
const servers: ReturnType<typeof Bun.serve>[] = [];
function upstream(handler: (request: Request) => Response | Promise<Response>): string {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: handler });
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}
afterAll(() => {
  for (const server of servers) server.stop(true);
});

describe("when service1 misbehaves", () => {
  const timestamp = { epoch: 1761660634, epochMs: 1761660634000, iso: "2025-10-28T14:10:34.000Z" };

  test.each([
    ["answers 500", () => new Response("Internal Server Error", { status: 500 }), 502, "UPSTREAM_BAD_RESPONSE"],
    ["answers an HTML page", () => new Response("<html>oops</html>"), 502, "UPSTREAM_BAD_RESPONSE"],
    ["answers the wrong JSON", () => Response.json({ epoch: "soon" }), 502, "UPSTREAM_BAD_RESPONSE"],
    ["keeps answering 503", () => new Response("draining", { status: 503 }), 503, "UPSTREAM_UNAVAILABLE"],
  ])("service1 %s → %i %s", async (_case, handler, status, code) => {
    const { app } = makeService2({ SERVICE1_URL: upstream(handler), SERVICE1_RETRY_BACKOFF_MS: "1" });
    const response = await call(app, "/v1/format");
    expect(response.status).toBe(status);
    const body = await json(response);
    expect(body.error.code).toBe(code);
    expect(body.error.message).toStartWith("service1 ");
    expect(body.error.message).not.toContain("127.0.0.1");
  });

  test("nothing listens → 503 after bounded retries, quickly", async () => {
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const url = `http://127.0.0.1:${closed.port}`;
    closed.stop(true);
    const { app } = makeService2({ SERVICE1_URL: url, SERVICE1_TIMEOUT_MS: "2000", SERVICE1_RETRIES: "2" });
    const response = await call(app, "/v1/format");
    expect(response.status).toBe(503);
    expect((await json(response)).error.message).toContain("is unavailable: cannot connect");
    const metrics = await (await call(app, "/metrics")).text();
    expect(metrics).toContain(
      'upstream_requests_total{operation="timestamp",outcome="unavailable",service="service2"} 1',
    );
  });

  test("slower than the timeout → 504 while service1 is still working on it", async () => {
    // service1 answers only when the test lets it: the 504 must come while it still holds the
    // request, however busy the machine is (an order, not a wall-clock limit).
    const release = Promise.withResolvers<void>();
    let answered = 0;
    const url = upstream(async () => {
      await release.promise;
      answered++;
      return Response.json(timestamp);
    });
    const { app } = makeService2({ SERVICE1_URL: url, SERVICE1_TIMEOUT_MS: "200" });
    const response = await call(app, "/v1/format");
    expect(answered).toBe(0);
    release.resolve();
    expect(response.status).toBe(504);
    expect((await json(response)).error).toEqual({
      code: "UPSTREAM_TIMEOUT",
      message: "service1 did not answer within 200 ms",
    });
  });

  test("a transient 503 is retried and the caller never sees it", async () => {
    let attempts = 0;
    const url = upstream(() => (++attempts < 3 ? new Response("busy", { status: 503 }) : Response.json(timestamp)));
    const { app } = makeService2({ SERVICE1_URL: url, SERVICE1_RETRIES: "2", SERVICE1_RETRY_BACKOFF_MS: "1" });
    const response = await call(app, "/v1/format");
    expect(response.status).toBe(200);
    expect(attempts).toBe(3);
  });

  test("an attempt that hangs is abandoned at the attempt timeout and retried", async () => {
    // The first attempt hangs until the test ends it: the 200 must come from the retry while the
    // first attempt is still held.
    const release = Promise.withResolvers<void>();
    let attempts = 0;
    let firstAnswered = false;
    const url = upstream(async () => {
      if (++attempts === 1) {
        await release.promise;
        firstAnswered = true;
      }
      return Response.json(timestamp);
    });
    const { app } = makeService2({
      SERVICE1_URL: url,
      SERVICE1_TIMEOUT_MS: "10000",
      SERVICE1_ATTEMPT_TIMEOUT_MS: "100",
    });
    const response = await call(app, "/v1/format");
    expect(firstAnswered).toBe(false);
    release.resolve();
    expect(response.status).toBe(200);
    expect(attempts).toBe(2);
  });

  test("every attempt hanging ends in 504 once the whole budget is spent", async () => {
    let attempts = 0;
    const url = upstream(async () => {
      attempts++;
      await Bun.sleep(3000);
      return Response.json(timestamp);
    });
    const { app } = makeService2({
      SERVICE1_URL: url,
      SERVICE1_TIMEOUT_MS: "1000",
      SERVICE1_ATTEMPT_TIMEOUT_MS: "100",
      SERVICE1_RETRIES: "2",
    });
    const response = await call(app, "/v1/format");
    expect(response.status).toBe(504);
    expect((await json(response)).error.message).toContain("did not answer within the 100 ms attempt timeout");
    expect(attempts).toBe(3);
  });

  test("concurrent callers share one call to service1, each gets a time read after it arrived, and every id travels", async () => {
    let calls = 0;
    const seenIds: string[] = [];
    const url = upstream((request) => {
      calls++;
      seenIds.push(request.headers.get("x-request-id") ?? "");
      seenIds.push(...(request.headers.get("x-joined-request-ids") ?? "").split(",").filter(Boolean));
      const now = Date.now();
      return Response.json({ epoch: Math.floor(now / 1000), epochMs: now, iso: new Date(now).toISOString() });
    });
    const { app } = makeService2({ SERVICE1_URL: url });
    const ids = Array.from({ length: 20 }, (_, i) => `joined-${i}`);
    const results = await Promise.all(
      ids.map(async (id) => {
        const sentAt = Date.now();
        const response = await app.handle(
          new Request("http://localhost/v1/format", { headers: { "x-request-id": id } }),
        );
        return { sentAt, status: response.status, body: await json(response) };
      }),
    );
    for (const result of results) {
      expect(result.status).toBe(200);
      expect(result.body.epochMs).toBeGreaterThanOrEqual(result.sentAt);
    }
    expect(calls).toBeLessThan(ids.length);
    expect(seenIds.sort()).toEqual([...ids].sort());
  });

  test("at most 64 callers share one call, so its id header stays bounded", async () => {
    const idsPerCall: number[] = [];
    const url = upstream((request) => {
      const joined = request.headers.get("x-joined-request-ids");
      idsPerCall.push(1 + (joined ? joined.split(",").length : 0));
      return Response.json(timestamp);
    });
    const { app } = makeService2({ SERVICE1_URL: url });
    const responses = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        app.handle(new Request("http://localhost/v1/format", { headers: { "x-request-id": `many-${i}` } })),
      ),
    );
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(idsPerCall.reduce((sum, n) => sum + n, 0)).toBe(150);
    expect(Math.max(...idsPerCall)).toBeLessThanOrEqual(64);
    expect(idsPerCall.length).toBeGreaterThanOrEqual(3);
  });

  test("callers that arrive after a call was sent get a call of their own", async () => {
    let calls = 0;
    const url = upstream(() => {
      calls++;
      return Response.json(timestamp);
    });
    const { app } = makeService2({ SERVICE1_URL: url });
    await call(app, "/v1/format");
    await call(app, "/v1/format");
    expect(calls).toBe(2);
  });

  test("a 500 is not retried: it is not a transient failure", async () => {
    let attempts = 0;
    const url = upstream(() => {
      attempts++;
      return new Response("bug", { status: 500 });
    });
    const { app } = makeService2({ SERVICE1_URL: url, SERVICE1_RETRIES: "3" });
    expect((await call(app, "/v1/format")).status).toBe(502);
    expect(attempts).toBe(1);
  });

  test("POST /v1/format keeps working while service1 is down", async () => {
    const { app } = makeService2({ SERVICE1_URL: "http://127.0.0.1:9" });
    const response = await call(app, "/v1/format", postJson({ epoch: 0 }));
    expect(response.status).toBe(200);
    expect((await json(response)).formatted).toBe("1970-01-01");
  });

  test("the legacy route answers upstream failures in text", async () => {
    const { app } = makeService2({ SERVICE1_URL: upstream(() => new Response("x", { status: 500 })) });
    const response = await call(app, "/", { method: "POST", body: "iso" });
    expect(response.status).toBe(502);
    expect(response.headers.get("content-type")).toStartWith("text/plain");
    expect(await response.text()).toBe("service1 answered HTTP 500\n");
  });

  test("SERVICE1_URL credentials reach service1 as Basic auth and never a client or a log line", async () => {
    const authorizations: string[] = [];
    const url = upstream((request) => {
      authorizations.push(request.headers.get("authorization") ?? "");
      return new Response("busy", { status: 503 });
    });
    const withCredentials = url.replace("http://", "http://operator:s3cret-pass@");
    const { app, log } = makeService2({ SERVICE1_URL: withCredentials, SERVICE1_RETRY_BACKOFF_MS: "1" });
    for (const [path, init] of [
      ["/v1/format", undefined],
      ["/", { method: "POST", body: "iso" }],
    ] as const) {
      const response = await call(app, path, init);
      expect(response.status).toBe(503);
      const text = await response.text();
      for (const secret of ["s3cret", "operator", "127.0.0.1", "http"]) expect(text).not.toContain(secret);
    }
    expect(authorizations[0]).toBe(`Basic ${btoa("operator:s3cret-pass")}`);
    const logged = JSON.stringify(log.lines());
    expect(logged).not.toContain("s3cret");
    expect(logged).toContain("operator:redacted@127.0.0.1");
  });
});

describe("fuzzing through the app: bad input is never a 5xx", () => {
  const service1 = inProcessService1();
  const { app } = makeService2({}, service1.fetch);

  test("any query string on GET /v1/format", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom("pattern", "tz", "locale", "other"), fc.string({ maxLength: 70 })),
        async (query) => {
          const response = await app.handle(new Request(`http://localhost/v1/format?${new URLSearchParams(query)}`));
          const body = await json(response);
          return (
            response.status < 500 &&
            (response.status === 200 ? typeof body.formatted === "string" : typeof body.error.code === "string")
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  test("any JSON body on POST /v1/format", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const response = await app.handle(new Request("http://localhost/v1/format", postJson(value)));
        const body = await json(response);
        return response.status < 500 && (response.status === 200 || typeof body.error.message === "string");
      }),
      { numRuns: 300 },
    );
  });
});
