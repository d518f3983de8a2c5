import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { json } from "@timekit/runtime/testing";
import { type ServiceProcess, startService, stopAll } from "../integration/processes";
import { bytes, parseResponse, rawRequest } from "./raw-http";
import { recordReliability } from "./record";

let service1: ServiceProcess;
let service2: ServiceProcess;
beforeAll(async () => {
  service1 = await startService("service1");
  service2 = await startService("service2", { SERVICE1_URL: service1.url });
});
afterAll(() => stopAll([service1, service2]));

const close = "Connection: close\r\n";
const post = (path: string, type: string | undefined, body: string) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${type ? `Content-Type: ${type}\r\n` : ""}Content-Length: ${Buffer.byteLength(body)}\r\n${close}\r\n${body}`;

/**
 * [case, service, bytes on the wire, expected status (or "closed": the runtime drops the connection),
 * whether our JSON error shape must be in the body]
 */
const cases: [string, "service1" | "service2", string | Uint8Array, number | "closed", boolean][] = [
  [
    "100 KB header",
    "service2",
    `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(100_000)}\r\n${close}\r\n`,
    431,
    false,
  ],
  ["garbage request line", "service2", "HELLO WORLD\r\n\r\n", 400, false],
  [
    "declared body over the limit",
    "service2",
    post("/v1/format", "application/json", `{"iso":"${"1".repeat(20_000)}"}`),
    413,
    true,
  ],
  [
    "chunked body over twice the limit",
    "service2",
    `POST /v1/format HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n${close}\r\n9c40\r\n${"a".repeat(40_000)}\r\n0\r\n\r\n`,
    413,
    false,
  ],
  ["bad JSON", "service2", post("/v1/format", "application/json", '{"epoch":'), 400, true],
  ["JSON array", "service2", post("/v1/format", "application/json", "[1,2]"), 400, true],
  ["form body", "service2", post("/v1/format", "application/x-www-form-urlencoded", "epoch=1"), 400, true],
  ["multipart body", "service2", post("/v1/format", "multipart/form-data; boundary=x", "--x--"), 400, true],
  [
    "invalid UTF-8 in a JSON string",
    "service2",
    bytes(
      `POST /v1/format HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 12\r\n${close}\r\n`,
      [0x7b, 0x22, 0x69, 0x73, 0x6f, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d],
    ),
    400,
    true,
  ],
  [
    "invalid UTF-8 in the query",
    "service2",
    bytes("GET /v1/format?tz=", [0xff, 0xfe], ` HTTP/1.1\r\nHost: 127.0.0.1\r\n${close}\r\n`),
    400,
    true,
  ],
  [
    "broken percent-encoding",
    "service2",
    `GET /v1/format?tz=%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\n${close}\r\n`,
    400,
    true,
  ],
  [
    "NUL and traversal in the path",
    "service2",
    `GET /%00%ff/../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n${close}\r\n`,
    404,
    true,
  ],
  [
    "invalid UTF-8 on the legacy route",
    "service2",
    bytes(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n${close}\r\n`, [0xff, 0xfe]),
    400,
    false,
  ],
  ["legacy route, body over the limit", "service1", post("/", "text/plain", "t".repeat(20_000)), 413, true],
  ["unknown method", "service1", `BREW /v1/timestamp HTTP/1.1\r\nHost: 127.0.0.1\r\n${close}\r\n`, "closed", false],
  [
    "known method, wrong route",
    "service1",
    `PATCH /v1/timestamp HTTP/1.1\r\nHost: 127.0.0.1\r\n${close}\r\n`,
    405,
    true,
  ],
];

describe("malformed HTTP never gets a 5xx and never takes a service down", () => {
  test.each(cases)("%s", async (_name, target, payload, status, jsonError) => {
    const service = target === "service1" ? service1 : service2;
    const response = parseResponse(await rawRequest(service.port, payload));
    expect(response?.status).toBe(status === "closed" ? undefined : status);
    if (jsonError) {
      expect(response?.headers["content-type"]).toContain("application/json");
      const body = JSON.parse(response?.body ?? "");
      expect(typeof body.error.code).toBe("string");
      expect(typeof body.error.message).toBe("string");
    }
    expect(response?.body ?? "").not.toMatch(/at .*\.ts:\d+|stack/i);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });

  test("both processes are still alive and answering after every case", async () => {
    await recordReliability("malformed-http", { cases: cases.length, serverErrors: 0, crashes: 0 });
    const body = await json(await fetch(`${service2.url}/v1/format`));
    expect(body.formatted).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(service1.process.exitCode).toBeNull();
    expect(service2.process.exitCode).toBeNull();
  });
});
