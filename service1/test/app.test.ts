import { describe, expect, test } from "bun:test";
import { treaty } from "@elysiajs/eden";
import { loadConfig } from "@timekit/runtime";
import { captureLogger, json, testBuildInfo } from "@timekit/runtime/testing";
import { createApp } from "../src/app";
import { settings } from "../src/settings";

const NOW = Date.UTC(2025, 9, 28, 14, 10, 34, 123);

function makeApp(now = () => NOW) {
  return createApp({
    config: loadConfig(settings, {}),
    logger: captureLogger("service1").logger,
    lifecycle: { state: "ready" },
    info: testBuildInfo("service1"),
    now,
  });
}

describe("GET /v1/timestamp", () => {
  test("one instant in three encodings, typed end to end through Eden Treaty", async () => {
    const api = treaty(makeApp(), { parseDate: false });
    const { data, status } = await api.v1.timestamp.get();
    expect(status).toBe(200);
    expect(data).toEqual({ epoch: 1761660634, epochMs: 1761660634123, iso: "2025-10-28T14:10:34.123Z" });
  });

  test.each([
    [0, { epoch: 0, epochMs: 0, iso: "1970-01-01T00:00:00.000Z" }],
    [-1, { epoch: -1, epochMs: -1, iso: "1969-12-31T23:59:59.999Z" }],
    [999, { epoch: 0, epochMs: 999, iso: "1970-01-01T00:00:00.999Z" }],
  ])("epoch seconds round down at %i ms", async (ms, expected) => {
    const response = await makeApp(() => ms).handle(new Request("http://localhost/v1/timestamp"));
    expect(await json(response)).toEqual(expected);
  });
});

describe("legacy route /", () => {
  test.each([
    ["GET", undefined, undefined, "2025-10-28T14:10:34.123Z\n"],
    ["POST", "timestamp", "text/plain", "1761660634\n"],
    ["POST", "  timestamp  \nignored", "text/plain", "1761660634\n"],
    ["POST", "timestamp\r\n", "text/plain", "1761660634\n"],
    ["POST", "timestamp", "application/x-www-form-urlencoded", "1761660634\n"],
    ["POST", "iso", "text/plain", "2025-10-28T14:10:34.123Z\n"],
    ["POST", "", "text/plain", "2025-10-28T14:10:34.123Z\n"],
    ["POST", "foo", "text/plain", "2025-10-28T14:10:34.123Z\n"],
    ["POST", "TIMESTAMP", "text/plain", "2025-10-28T14:10:34.123Z\n"],
    ["POST", "timestamp", undefined, "1761660634\n"],
  ])("%s with body %p (%s) → %p", async (method, body, type, expected) => {
    const headers: Record<string, string> = type ? { "content-type": type } : {};
    const response = await makeApp().handle(new Request("http://localhost/", { method, body, headers }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/plain");
    expect(await response.text()).toBe(expected);
  });

  test("other methods get 405 naming the allowed ones", async () => {
    const response = await makeApp().handle(new Request("http://localhost/", { method: "DELETE" }));
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, POST");
  });
});

test("the OpenAPI document describes the timestamp and legacy routes", async () => {
  const document = await json(await makeApp().handle(new Request("http://localhost/openapi/json")));
  const timestamp = document.paths["/v1/timestamp"].get.responses["200"].content["application/json"].schema;
  expect(Object.keys(timestamp.properties).sort()).toEqual(["epoch", "epochMs", "iso"]);
  expect(Object.keys(document.paths["/"]).sort()).toEqual(["get", "post"]);
});
