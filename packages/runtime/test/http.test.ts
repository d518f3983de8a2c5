import { afterAll, describe, expect, test } from "bun:test";
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import fc from "fast-check";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { HttpError } from "../src/errors";
import { createServiceApp, type Lifecycle } from "../src/http";
import { SECURITY_HEADERS } from "../src/lane";
import { createLogger } from "../src/logger";
import { DURATION_BUCKETS, HttpMetrics, Metrics } from "../src/metrics";
import { listen } from "../src/serve";
import { captureLogger, type Json, json, MemorySink, testBuildInfo } from "../src/testing";

function makeApp(lifecycle: Lifecycle = { state: "ready" }) {
  const log = captureLogger("demo");
  const app = createServiceApp({
    info: testBuildInfo("demo"),
    description: "demo",
    logger: log.logger,
    maxBodyBytes: 1024,
    lifecycle,
  })
    .get("/v1/echo", ({ query, requestId }) => ({ value: query.value, requestId }), {
      query: t.Object({ value: t.String({ maxLength: 5 }) }),
    })
    // TypeBox's integer: Elysia's t.Integer would also take "1".
    .post("/v1/echo", ({ body }) => body, { body: t.Object({ n: Type.Integer() }, { additionalProperties: false }) })
    .get("/v1/teapot", () => {
      throw new HttpError(418, "TEAPOT", "short and stout");
    })
    .get("/v1/crash", () => {
      throw new Error("secret detail at /srv/app.ts:12");
    });
  return { app, log };
}

/** Access logs and metrics are written after the response is handed over; let that happen first. */
async function call(app: { handle(request: Request): Promise<Response> }, path: string, init?: RequestInit) {
  const response = await app.handle(new Request(`http://localhost${path}`, init));
  await Bun.sleep(1);
  return response;
}

describe("request ids", () => {
  test("a valid incoming id is returned and logged", async () => {
    const { app, log } = makeApp();
    const response = await call(app, "/v1/echo?value=a", { headers: { "x-request-id": "trace-42.a:b" } });
    expect(response.headers.get("x-request-id")).toBe("trace-42.a:b");
    expect((await json(response)).requestId).toBe("trace-42.a:b");
    expect(log.lines().find((line) => line.msg === "request")).toMatchObject({
      requestId: "trace-42.a:b",
      method: "GET",
      path: "/v1/echo",
      status: 200,
    });
  });

  test.each([
    ["missing", undefined],
    ["too long", "x".repeat(129)],
    ["unsafe characters", "abc def<script>"],
  ])("a %s id is replaced by a generated UUID", async (_case, incoming) => {
    const { app } = makeApp();
    const headers: Record<string, string> = incoming ? { "x-request-id": incoming } : {};
    const response = await call(app, "/healthz", { headers });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

test("ids of requests a caller folded into this one are logged beside its own; unsafe ones are dropped", async () => {
  const { app, log } = makeApp();
  await call(app, "/v1/echo?value=a", {
    headers: { "x-request-id": "main-1", "x-joined-request-ids": "b-2,c-3,bad id,d-4" },
  });
  await call(app, "/v1/echo?value=a", { headers: { "x-request-id": "solo" } });
  const lines = log.lines().filter((line) => line.msg === "request");
  expect(lines.find((line) => line.requestId === "main-1")?.joinedRequestIds).toEqual(["b-2", "c-3", "d-4"]);
  expect(lines.find((line) => line.requestId === "solo")).not.toHaveProperty("joinedRequestIds");
});

describe("error shape", () => {
  test.each([
    ["unknown route", "/nope", "GET", 404, "NOT_FOUND", "no route for GET /nope"],
    ["wrong method", "/v1/echo", "DELETE", 405, "METHOD_NOT_ALLOWED", "DELETE is not allowed on /v1/echo"],
    ["missing query field", "/v1/echo", "GET", 400, "INVALID_REQUEST", "query field 'value'"],
    ["query field too long", "/v1/echo?value=toolong", "GET", 400, "INVALID_REQUEST", "query field 'value'"],
    ["handler's own error", "/v1/teapot", "GET", 418, "TEAPOT", "short and stout"],
  ])("%s → %i %s", async (_case, path, method, status, code, message) => {
    const { app } = makeApp();
    const response = await call(app, path, { method });
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toContain("application/json");
    const body = await json(response);
    expect(body.error.code).toBe(code);
    expect(body.error.message).toContain(message);
  });

  test.each([
    ["http://s1/nope", "no route for GET /nope"],
    ["http://ab/v1/missing", "no route for GET /v1/missing"],
    ["http://localhost:8080//double/slash", "no route for GET //double/slash"],
    [`http://localhost/${"x".repeat(300)}`, `no route for GET /${"x".repeat(199)}…`],
  ])("404 names the path as requested, never the Host: %s", async (url, message) => {
    const { app } = makeApp();
    const response = await app.handle(new Request(url));
    expect(response.status).toBe(404);
    expect((await json(response)).error.message).toBe(message);
  });

  test("a short Host header does not change which route answers", async () => {
    const { app } = makeApp();
    expect((await app.handle(new Request("http://s1/v1/echo?value=a"))).status).toBe(200);
    const wrongMethod = await app.handle(new Request("http://ab/v1/echo", { method: "PUT" }));
    expect(wrongMethod.status).toBe(405);
    expect((await json(wrongMethod)).error.message).toBe("PUT is not allowed on /v1/echo; allowed: GET, POST");
  });

  test.each([
    ['{"n":"1"}', "body field 'n': must be an integer (a JSON number, not a string); got the string \"1\""],
    ['{"n":1,"m":2}', "body field 'm': is not a known field; allowed: n"],
    ["{}", "body field 'n': is required"],
  ])("validation messages read well: %s", async (body, message) => {
    const { app } = makeApp();
    const response = await call(app, "/v1/echo", {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    expect((await json(response)).error).toEqual({ code: "INVALID_REQUEST", message });
  });

  test("405 lists the allowed methods", async () => {
    const { app } = makeApp();
    const response = await call(app, "/v1/echo", { method: "PUT" });
    expect(response.headers.get("allow")).toBe("GET, POST");
  });

  test.each([
    ["bad JSON", "{oops", "application/json", "INVALID_BODY"],
    ["wrong type", '{"n":"one"}', "application/json", "INVALID_REQUEST"],
    ["unknown field", '{"n":1,"m":2}', "application/json", "INVALID_REQUEST"],
    ["wrong content type", "n=1", "text/plain", "INVALID_REQUEST"],
  ])("%s in a body → 400 %s", async (_case, body, type, code) => {
    const { app } = makeApp();
    const response = await call(app, "/v1/echo", { method: "POST", body, headers: { "content-type": type } });
    expect(response.status).toBe(400);
    expect((await json(response)).error.code).toBe(code);
  });

  test("an unexpected error is a 500 without details, logged with its request id", async () => {
    const { app, log } = makeApp();
    const response = await call(app, "/v1/crash", { headers: { "x-request-id": "crash-1" } });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain("secret detail");
    expect(JSON.parse(text).error.code).toBe("INTERNAL");
    const logged = log.lines().find((line) => line.msg === "unhandled error");
    expect(logged?.requestId).toBe("crash-1");
    expect(JSON.stringify(logged)).toContain("secret detail");
  });

  test("a body over the limit → 413 before it is read", async () => {
    const { app } = makeApp();
    const body = JSON.stringify({ n: 1, pad: "x".repeat(2000) });
    const response = await call(app, "/v1/echo", {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "content-length": String(body.length) },
    });
    expect(response.status).toBe(413);
    expect((await json(response)).error).toEqual({
      code: "BODY_TOO_LARGE",
      message: `request body is ${body.length} bytes; the limit is 1024`,
    });
  });
});

describe("ops routes", () => {
  test("security headers are on every response", async () => {
    const { app } = makeApp();
    for (const path of ["/healthz", "/nope"]) {
      const response = await call(app, path);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("cache-control")).toBe("no-store");
    }
  });

  test.each([
    ["starting", 503],
    ["ready", 200],
    ["draining", 503],
  ] as const)("/readyz while %s → %i; /healthz stays 200", async (state, status) => {
    const { app } = makeApp({ state });
    const ready = await call(app, "/readyz");
    expect(ready.status).toBe(status);
    expect(await json(ready)).toEqual({ status: state });
    expect((await call(app, "/healthz")).status).toBe(200);
  });

  test("/_/health answers the legacy watchdog's plain OK", async () => {
    const { app } = makeApp();
    const response = await call(app, "/_/health");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("OK");
  });

  test("/version reports the build", async () => {
    const { app } = makeApp();
    expect(await json(await call(app, "/version"))).toEqual(testBuildInfo("demo"));
  });

  test("/metrics counts requests per route and status, with latency histograms", async () => {
    const { app } = makeApp();
    await call(app, "/v1/echo?value=a");
    await call(app, "/v1/echo?value=a");
    await call(app, "/nope/123");
    const response = await call(app, "/metrics");
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toContain('http_requests_total{method="GET",route="/v1/echo",status="200",service="demo"} 2');
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404",service="demo"} 1');
    expect(text).toContain('http_request_duration_seconds_count{service="demo",method="GET",route="/v1/echo"} 2');
    expect(text).toContain("process_resident_memory_bytes");
    // Gauges must not carry the counter suffix (promtool check metrics); the plain names stay.
    expect(text).not.toMatch(/^nodejs_active_\w+_total/m);
    expect(text).toContain("# TYPE nodejs_active_handles gauge");
  });

  test("/openapi/json documents every route, itself included, with every answer", async () => {
    const { app } = makeApp();
    const document = await json(await call(app, "/openapi/json"));
    expect(document.openapi).toBe("3.1.0");
    const routes = app.routes.map((route) => `${route.method} ${route.path}`).sort();
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(routes);
    const operations = Object.values(document.paths as Record<string, Record<string, Json>>).flatMap(Object.values);
    const ids = operations.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of operations) {
      expect(op.responses["413"]).toEqual({ $ref: "#/components/responses/PayloadTooLarge" });
      expect(op.responses["500"]).toEqual({ $ref: "#/components/responses/InternalError" });
      expect(JSON.stringify(op)).not.toContain("x-timekit");
    }
    expect(Object.keys(document.paths["/_/health"].get.responses["200"].content)).toEqual(["text/plain"]);
    expect(Object.keys(document.paths["/metrics"].get.responses["200"].content)).toEqual(["text/plain"]);
    expect(Object.keys(document.components.responses).sort()).toEqual([
      "InternalError",
      "MethodNotAllowed",
      "NotFound",
      "PayloadTooLarge",
    ]);
  });
});

/** One request written by hand (a GET with a declared body, which fetch refuses to send); the raw answer. */
async function rawRequest(port: number, text: string): Promise<string> {
  let answer = "";
  const { promise, resolve } = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, chunk) {
        answer += new TextDecoder().decode(chunk);
        if (/\r\n\r\n/.test(answer) && answer.includes("}")) resolve();
      },
      close: () => resolve(),
    },
  });
  socket.write(text);
  await Promise.race([promise, Bun.sleep(5000)]);
  socket.end();
  return answer;
}

describe("the native lane, over a real socket", () => {
  const servers: ReturnType<typeof listen>[] = [];
  afterAll(() => {
    for (const server of servers) server.stop(true);
  });

  function nativeApp() {
    const log = captureLogger("demo");
    const metrics = new Metrics("demo", { processMetrics: false });
    const app = createServiceApp({
      info: testBuildInfo("demo"),
      description: "demo",
      logger: log.logger,
      maxBodyBytes: 1024,
      metrics,
      nativeRoutes: ["/v1/echo", "/v1/clock", "/v1/teapot", "/v1/crash", "/v1/liar", "/v1/later"],
    })
      .get("/v1/echo", ({ query, requestId }) => ({ value: query.value, requestId }), {
        query: t.Object({ value: t.String({ maxLength: 5 }), note: t.Optional(t.String()) }),
        response: t.Object({ value: t.String(), requestId: t.String() }),
      })
      .post("/v1/echo", ({ body }) => body, { body: t.Object({ n: Type.Integer() }) })
      .get("/v1/clock", () => ({ now: 42 }), { response: t.Object({ now: Type.Integer() }) })
      .get(
        "/v1/teapot",
        () => {
          throw new HttpError(418, "TEAPOT", "short and stout");
        },
        { response: t.Object({ now: Type.Integer() }) },
      )
      .get(
        "/v1/crash",
        () => {
          throw new Error("secret detail at /srv/app.ts:12");
        },
        { response: t.Object({ now: Type.Integer() }) },
      )
      .get("/v1/liar", () => ({ now: "noon" }) as unknown as { now: number }, {
        response: t.Object({ now: Type.Integer() }),
      })
      .get(
        "/v1/later",
        async ({ set }) => {
          await Bun.sleep(1);
          set.status = 202;
          return { now: 7 };
        },
        { response: { 202: t.Object({ now: Type.Integer() }) } },
      );
    const server = listen(app, { port: 0, hostname: "127.0.0.1" });
    servers.push(server);
    return { app, log, metrics, url: `http://127.0.0.1:${server.port}`, port: server.port as number };
  }

  const settle = () => Bun.sleep(5);

  test("answers as Elysia does for every query, valid or not", async () => {
    const { app, url } = nativeApp();
    const queries = ["?value=a", "?value=abc&note=x", "", "?value=toolong", "?value=a&value=bc", "?value=%zz"];
    queries.push("?value=x+y", "?value=a%20b", "?other=1", "?value=a&other=1", "?note=only", "?value=");
    for (const query of queries) {
      const init = { headers: { "x-request-id": "same-id" } };
      const native = await fetch(`${url}/v1/echo${query}`, init);
      const elysia = await app.handle(new Request(`http://localhost/v1/echo${query}`, init));
      expect({ query, status: native.status, body: await native.json() }).toEqual({
        query,
        status: elysia.status,
        body: await elysia.json(),
      });
    }
  });

  test("every route, native or not, and every error carries the security headers and a request id", async () => {
    const { app, url } = nativeApp();
    const paths = app.routes.filter((route) => route.method === "GET").map((route) => route.path);
    expect(paths).toContain("/v1/clock");
    for (const path of [...paths, "/nope"]) {
      const response = await fetch(`${url}${path}?value=a`);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
        expect({ path, name, value: response.headers.get(name) }).toEqual({ path, name, value });
      }
      expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      await response.arrayBuffer();
    }
    const wrongMethod = await fetch(`${url}/v1/clock`, { method: "DELETE" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("x-content-type-options")).toBe("nosniff");
  });

  test("a body over the limit is a 413 on native and Elysia routes alike, and both are logged", async () => {
    const { port, log } = nativeApp();
    const request = (line: string) =>
      rawRequest(
        port,
        `${line}\r\nHost: demo\r\nx-request-id: big-${line.split(" ")[0]}\r\nContent-Length: 1500\r\n\r\n`,
      );
    for (const line of ["GET /v1/clock HTTP/1.1", "POST /v1/echo HTTP/1.1"]) {
      const answer = await request(line);
      expect(answer).toStartWith("HTTP/1.1 413");
      expect(answer.toLowerCase()).toContain("x-frame-options: deny");
      expect(answer).toContain(
        '{"error":{"code":"BODY_TOO_LARGE","message":"request body is 1500 bytes; the limit is 1024"}}',
      );
    }
    await settle();
    const logged = log.lines().filter((line) => String(line.requestId).startsWith("big-"));
    expect(logged.map((line) => [line.method, line.status]).sort()).toEqual([
      ["GET", 413],
      ["POST", 413],
    ]);
  });

  test("HEAD is answered, counted and logged as HEAD on native and Elysia routes", async () => {
    const { url, log, metrics } = nativeApp();
    for (const path of ["/v1/clock", "/version"]) {
      const response = await fetch(`${url}${path}`, {
        method: "HEAD",
        headers: { "x-request-id": `head${path.replaceAll("/", "-")}` },
      });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("");
    }
    await settle();
    const logged = log.lines().filter((line) => String(line.requestId).startsWith("head"));
    expect(logged.map((line) => `${line.method} ${line.path}`).sort()).toEqual(["HEAD /v1/clock", "HEAD /version"]);
    const { text } = await metrics.scrape();
    expect(text).toContain('http_requests_total{method="HEAD",route="/v1/clock",status="200",service="demo"} 1');
    expect(text).toContain('http_requests_total{method="HEAD",route="/version",status="200",service="demo"} 1');
  });

  test("a handler's HttpError is its answer; anything else (a crash, an answer off its schema) a logged 500", async () => {
    const { url, log } = nativeApp();
    const teapot = await fetch(`${url}/v1/teapot`);
    expect(teapot.status).toBe(418);
    expect(await teapot.json()).toEqual({ error: { code: "TEAPOT", message: "short and stout" } });
    for (const path of ["/v1/crash", "/v1/liar"]) {
      const response = await fetch(`${url}${path}`, {
        headers: { "x-request-id": `fail${path.replaceAll("/", "-")}` },
      });
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(text).not.toContain("secret");
      expect(JSON.parse(text).error.code).toBe("INTERNAL");
    }
    const errors = log.lines().filter((line) => line.level === "error");
    expect(errors.map((line) => line.requestId)).toEqual(["fail-v1-crash", "fail-v1-liar", "fail-v1-liar"]);
    expect(JSON.stringify(errors[0])).toContain("secret detail");
    const later = await fetch(`${url}/v1/later`);
    expect(later.status).toBe(202);
    expect(await later.json()).toEqual({ now: 7 });
  });

  test("the access log line keeps its shape: fields in order, the probe's success at debug", async () => {
    const { url, log } = nativeApp();
    await (await fetch(`${url}/v1/echo?value=abc`, { headers: { "x-request-id": "shape-1" } })).arrayBuffer();
    await (await fetch(`${url}/healthz`, { headers: { "x-request-id": "probe-1" } })).arrayBuffer();
    await settle();
    const line = log.lines().find((entry) => entry.requestId === "shape-1") as Record<string, unknown>;
    expect(Object.keys(line)).toEqual([
      "level",
      "time",
      "service",
      "version",
      "requestId",
      "method",
      "path",
      "status",
      "ms",
      "msg",
    ]);
    expect(line).toMatchObject({
      level: "info",
      service: "demo",
      version: "0.0.0-test",
      method: "GET",
      path: "/v1/echo",
      status: 200,
      msg: "request",
    });
    expect(new Date(line.time as string).toISOString()).toBe(line.time as string);
    expect(line.ms).toBeGreaterThanOrEqual(0);
    expect(log.lines().some((entry) => entry.requestId === "probe-1")).toBe(false);
  });

  test("a route that cannot be served natively is refused when the server starts, naming it", () => {
    const log = captureLogger("demo");
    const cases: [string, string][] = [
      ["/v1/missing", "native route GET /v1/missing: no such route is declared"],
      ["/v1/numbers", "its query must be strings without defaults ('n' is not)"],
      ["/v1/untyped", "declare its JSON answers (a response schema)"],
      ["/v1/:id", "only static GET routes"],
    ];
    for (const [path, message] of cases) {
      const app = createServiceApp({
        info: testBuildInfo("demo"),
        description: "d",
        logger: log.logger,
        maxBodyBytes: 1024,
        nativeRoutes: [path],
      });
      const built = app
        .get("/v1/numbers", ({ query }) => query, { query: t.Object({ n: t.Numeric() }), response: t.Any() })
        .get("/v1/untyped", () => ({}))
        .get("/v1/:id", ({ params }) => params, { response: t.Any() });
      expect(() => listen(built, { port: 0, hostname: "127.0.0.1" })).toThrow(message);
    }
  });
});

describe("metrics: counted by the runtime, shown through prom-client", () => {
  const methods = ["GET", "HEAD", "POST"];
  const routes = ["/v1/timestamp", "/v1/format", "unmatched", 'odd "route"\\with\nbreaks'];
  const observation = fc.record({
    method: fc.constantFrom(...methods),
    route: fc.constantFrom(...routes),
    status: fc.constantFrom(200, 400, 404, 413, 500, 503),
    seconds: fc.oneof(fc.double({ min: 0, max: 10, noNaN: true }), fc.constantFrom(0.0005, 0.001, 5, 0)),
  });

  test("the exposition equals prom-client's own Counter and Histogram fed the same requests", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
        const metrics = new Metrics("demo", { processMetrics: false });
        const ours = new HttpMetrics(metrics);
        const registry = new Registry();
        registry.setDefaultLabels({ service: "demo" });
        const requests = new Counter({
          name: "http_requests_total",
          help: "HTTP requests served, by method, route and status.",
          labelNames: ["method", "route", "status"],
          registers: [registry],
        });
        const duration = new Histogram({
          name: "http_request_duration_seconds",
          help: "Time from request start to response, by method and route.",
          labelNames: ["method", "route"],
          buckets: DURATION_BUCKETS,
          registers: [registry],
        });
        for (const { method, route, status, seconds } of observations) {
          ours.observe(method, route, status, seconds);
          requests.inc({ method, route, status });
          duration.observe({ method, route }, seconds);
        }
        expect((await metrics.scrape()).text).toBe(await registry.metrics());
      }),
      { numRuns: 200 },
    );
  });

  test("counters and gauges without labels, set at scrape time, and removed series match prom-client", async () => {
    const metrics = new Metrics("demo", { processMetrics: false });
    const registry = new Registry();
    registry.setDefaultLabels({ service: "demo" });
    let resets = 0;
    metrics.counter({
      name: "resets_total",
      help: "h",
      collect: (family) => family.inc({}, resets - family.labels({}).value),
    });
    new Counter({
      name: "resets_total",
      help: "h",
      registers: [registry],
      collect() {
        this.reset();
        this.inc(resets);
      },
    });
    const ourCalls = metrics.counter({ name: "calls_total", help: "h", labelNames: ["endpoint", "outcome"] as const });
    const promCalls = new Counter({
      name: "calls_total",
      help: "h",
      labelNames: ["endpoint", "outcome"],
      registers: [registry],
    });
    metrics.gauge({
      name: "endpoints",
      help: "h",
      labelNames: ["state"] as const,
      collect: (gauge) => {
        gauge.set({ state: "ready" }, 3);
        gauge.set({ state: "paused" }, 1);
      },
    });
    new Gauge({
      name: "endpoints",
      help: "h",
      labelNames: ["state"],
      registers: [registry],
      collect() {
        this.set({ state: "ready" }, 3);
        this.set({ state: "paused" }, 1);
      },
    });
    const ourLatency = metrics.histogram({ name: "latency_seconds", help: "h", buckets: [0.1, 1] });
    const promLatency = new Histogram({ name: "latency_seconds", help: "h", buckets: [0.1, 1], registers: [registry] });
    expect((await metrics.scrape()).text).toBe(await registry.metrics());
    for (const endpoint of ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]) {
      ourCalls.inc({ endpoint, outcome: "ok" }, 2);
      promCalls.inc({ endpoint, outcome: "ok" }, 2);
    }
    ourCalls.remove({ endpoint: "10.0.0.2:80", outcome: "ok" });
    promCalls.remove({ endpoint: "10.0.0.2:80", outcome: "ok" });
    for (const value of [0.05, 0.1, 0.5, 7]) {
      ourLatency.observe({}, value);
      promLatency.observe(value);
    }
    resets = 4;
    expect((await metrics.scrape()).text).toBe(await registry.metrics());
  });

  test("bad names and values are refused as prom-client refuses them", () => {
    const metrics = new Metrics("demo");
    expect(() => metrics.counter({ name: "bad name", help: "h" })).toThrow("invalid metric name");
    expect(() => metrics.counter({ name: "ok_total", help: "h", labelNames: ["bad-label"] })).toThrow(
      "invalid label name",
    );
    expect(() => metrics.histogram({ name: "h", help: "h", labelNames: ["le"], buckets: [1] })).toThrow("reserved");
    expect(() => metrics.histogram({ name: "h2", help: "h", buckets: [2, 1] })).toThrow("increasing");
    metrics.counter({ name: "twice_total", help: "h" });
    expect(() => metrics.counter({ name: "twice_total", help: "h" })).toThrow("already registered");
    const counter = metrics.counter({ name: "up_total", help: "h" });
    expect(() => counter.inc({}, -1)).toThrow("only goes up");
    const histogram = metrics.histogram({ name: "h3", help: "h", buckets: [1] });
    expect(() => histogram.observe({}, Number.NaN)).toThrow("finite");
  });

  test("prom-client is loaded by the first scrape, which still shows every metric and every request before it", async () => {
    const { app } = makeApp();
    const metrics = new Metrics("demo");
    const lazy = createServiceApp({
      info: testBuildInfo("demo"),
      description: "demo",
      logger: captureLogger("demo").logger,
      maxBodyBytes: 1024,
      metrics,
    });
    for (let i = 0; i < 3; i++) await call(lazy, "/version");
    await call(lazy, "/nope");
    expect(metrics.loaded).toBe(false);
    const text = await (await call(lazy, "/metrics")).text();
    expect(metrics.loaded).toBe(true);
    expect(text).toContain('http_requests_total{method="GET",route="/version",status="200",service="demo"} 3');
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404",service="demo"} 1');
    expect(text).toContain('http_request_duration_seconds_count{service="demo",method="GET",route="/version"} 3');
    // Every family an app that loaded prom-client at start-up shows, the process metrics included.
    const families = (page: string) => [...page.matchAll(/^# TYPE (\S+)/gm)].map((match) => match[1]).sort();
    await call(app, "/version");
    expect(families(text)).toEqual(families(await (await call(app, "/metrics")).text()));
    expect(families(text)).toContain("process_cpu_seconds_total");
    expect(families(text)).toContain("nodejs_gc_duration_seconds");
  });
});

describe("the logger", () => {
  test("lines have pino's shape: level, time, service, version, the fields, msg; errors serialised", () => {
    const sink = new MemorySink();
    const logger = createLogger({ service: "demo", version: "1.2.3", level: "info", sink });
    logger.info({ port: 8080, host: "0.0.0.0" }, "listening");
    logger.info("stopped");
    logger.debug({ hidden: true }, "not at info");
    const failure = Object.assign(new TypeError("boom"), { code: "E_BOOM" });
    logger.error({ requestId: "r-1", err: failure, nothing: undefined }, "unhandled error");
    logger.warn({ loop: BigInt(1) }, "cannot serialise");
    const [listening, stopped, error, warning] = sink.lines();
    expect(Object.keys(listening ?? {})).toEqual(["level", "time", "service", "version", "port", "host", "msg"]);
    expect(listening).toMatchObject({ level: "info", service: "demo", version: "1.2.3", port: 8080, msg: "listening" });
    expect(stopped).toEqual({ level: "info", time: stopped?.time, service: "demo", version: "1.2.3", msg: "stopped" });
    expect(error?.err).toMatchObject({ type: "TypeError", message: "boom", code: "E_BOOM" });
    expect(String((error?.err as { stack?: string } | undefined)?.stack)).toContain("TypeError: boom");
    expect(error).not.toHaveProperty("nothing");
    expect(warning).toMatchObject({ level: "warn", msg: "cannot serialise" });
    expect(String(warning?.logError)).toContain("could not be serialised");
    expect(sink.lines()).toHaveLength(4);
  });

  test.each([
    ["silent", []],
    ["error", ["error"]],
    ["warn", ["error", "warn"]],
    ["trace", ["error", "warn", "info", "debug", "trace"]],
  ] as const)("at %s only those levels are written", (level, written) => {
    const sink = new MemorySink();
    const logger = createLogger({ service: "demo", version: "1", level, sink });
    for (const method of ["error", "warn", "info", "debug", "trace"] as const) logger[method](method);
    expect(sink.lines().map((line) => line.level)).toEqual([...written]);
  });

  test("buffered stdout loses no line when the process flushes before it exits, with a slow reader", async () => {
    const logger = new URL("../src/logger.ts", import.meta.url).pathname;
    const script = `
      const { createLogger } = await import(${JSON.stringify(logger)});
      const log = createLogger({ service: "demo", version: "1", level: "info" });
      for (let i = 0; i < 50000; i++) log.info({ i, pad: "x".repeat(100) }, "line");
      await log.flush();
      process.exit(0);`;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
    await Bun.sleep(500); // the reader is late: the lines wait in the writer, not the event loop
    const text = await new Response(child.stdout).text();
    expect(await child.exited).toBe(0);
    const lines = text.split("\n").filter(Boolean);
    expect(lines).toHaveLength(50000);
    expect(JSON.parse(lines.at(-1) as string).i).toBe(49999);
  });
});
