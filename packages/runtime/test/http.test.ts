import { describe, expect, test } from "bun:test";
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { HttpError } from "../src/errors";
import { createServiceApp, type Lifecycle } from "../src/http";
import { captureLogger, type Json, json, testBuildInfo } from "../src/testing";

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
async function call(app: ReturnType<typeof makeApp>["app"], path: string, init?: RequestInit) {
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
