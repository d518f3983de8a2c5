import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { ROOMY_UPSTREAM, type ServiceProcess, startService, stopAll } from "../integration/processes";
import { recordReliability } from "./record";

let service1: ServiceProcess;
let service2: ServiceProcess;
beforeAll(async () => {
  service1 = await startService("service1", { LOG_LEVEL: "warn" });
  service2 = await startService("service2", {
    SERVICE1_URL: service1.url,
    LOG_LEVEL: "warn",
    ...ROOMY_UPSTREAM,
  });
});
afterAll(() => stopAll([service1, service2]));

/** Every route of both services, by where it lives and whether its errors are JSON. */
const ROUTES = [
  { service: "service1", path: "/v1/timestamp", json: true, methods: ["GET"] },
  { service: "service1", path: "/", json: false, methods: ["GET", "POST"] },
  { service: "service2", path: "/v1/format", json: true, methods: ["GET", "POST"] },
  { service: "service2", path: "/", json: false, methods: ["GET", "POST"] },
  { service: "service1", path: "/healthz", json: true, methods: ["GET"] },
  { service: "service2", path: "/readyz", json: true, methods: ["GET"] },
  { service: "service2", path: "/version", json: true, methods: ["GET"] },
  { service: "service1", path: "/metrics", json: true, methods: ["GET"] },
  { service: "service2", path: "/openapi/json", json: true, methods: ["GET"] },
] as const;

const CONTENT_TYPES = [
  "application/json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "",
  "application/json; charset=latin1",
];

/** Mostly the route's own methods (to reach its handler), sometimes any method (to reach 405). */
const request = fc.constantFrom(...ROUTES).chain((route) =>
  fc.record({
    route: fc.constant(route),
    method: fc.oneof(
      { arbitrary: fc.constantFrom(...route.methods), weight: 5 },
      { arbitrary: fc.constantFrom("PUT", "DELETE", "PATCH"), weight: 1 },
    ),
    query: fc.dictionary(fc.constantFrom("pattern", "tz", "locale", "epoch", "x"), fc.string({ maxLength: 40 }), {
      maxKeys: 3,
    }),
    contentType: fc.constantFrom(...CONTENT_TYPES),
    body: fc.oneof(
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.string({ maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => new TextDecoder("latin1").decode(bytes)),
      fc.constant(""),
    ),
  }),
);

test("every route with generated methods, queries, content types and bodies: never a 5xx, never a crash, JSON errors where promised", async () => {
  let sent = 0;
  let jsonErrors = 0;
  const statuses: Record<number, number> = {};
  await fc.assert(
    fc.asyncProperty(request, async ({ route, method, query, contentType, body }) => {
      const base = route.service === "service1" ? service1.url : service2.url;
      const hasBody = method !== "GET";
      const response = await fetch(`${base}${route.path}?${new URLSearchParams(query)}`, {
        method,
        body: hasBody ? body : undefined,
        headers: hasBody && contentType ? { "content-type": contentType } : {},
      });
      const text = await response.text();
      sent++;
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.status >= 500) return false;
      if (response.status >= 400 && (route.json || response.status === 405 || response.status === 404)) {
        const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        jsonErrors++;
        return typeof parsed.error?.code === "string" && typeof parsed.error?.message === "string";
      }
      return true;
    }),
    { numRuns: 600 },
  );
  await recordReliability("fuzz", {
    requests: sent,
    jsonErrorsChecked: jsonErrors,
    statuses: JSON.stringify(statuses),
    serverErrors: 0,
  });
  expect(service1.process.exitCode).toBeNull();
  expect(service2.process.exitCode).toBeNull();
  expect((await fetch(`${service2.url}/v1/format`)).status).toBe(200);
}, 120_000);
