import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import createClient from "openapi-fetch";
import type { OpenAPIV3_1 } from "openapi-types";
import { freePort, type ServiceProcess, startService, stopAll } from "../integration/processes";
import { parseResponse, rawRequest } from "../reliability/raw-http";
import { type Dereferenced, DocumentChecker, GENERATED, generateTypes } from "./documents";
import type { paths as Service1Paths } from "./generated/service1";
import type { paths as Service2Paths } from "./generated/service2";

/**
 * A client generated from each service's live /openapi/json (openapi-typescript + openapi-fetch)
 * calls every route, success and failure alike; every answer must be documented: its status for
 * that operation, its content type, and a body that matches the schema (ajv). The documents must
 * pass an OpenAPI validator, and every documented status except 500 must have been seen.
 */

const LIMIT = 1024;
const started: ServiceProcess[] = [];
const servers: ReturnType<typeof Bun.serve>[] = [];
async function start(...args: Parameters<typeof startService>): Promise<ServiceProcess> {
  const process = await startService(...args);
  started.push(process);
  return process;
}
function standIn(handler: () => Response | Promise<Response>): string {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: handler });
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}

const quiet = { LOG_LEVEL: "warn", MAX_BODY_BYTES: String(LIMIT) };
let service1: ServiceProcess;
let service2: ServiceProcess;
/** service2 instances whose service1 is down, broken, too slow; and one of each service draining. */
const failing: Record<"down" | "broken" | "slow", ServiceProcess> = {} as never;
const draining: Record<"service1" | "service2", ServiceProcess> = {} as never;
const documents: Record<"service1" | "service2", OpenAPIV3_1.Document> = {} as never;
const checkers: Record<"service1" | "service2", DocumentChecker> = {} as never;

beforeAll(async () => {
  service1 = await start("service1", quiet);
  service2 = await start("service2", { ...quiet, SERVICE1_URL: service1.url });
  const timeouts = { SERVICE1_TIMEOUT_MS: "300", SERVICE1_ATTEMPT_TIMEOUT_MS: "300", SERVICE1_RETRY_BACKOFF_MS: "1" };
  failing.down = await start("service2", { ...quiet, ...timeouts, SERVICE1_URL: `http://127.0.0.1:${freePort()}` });
  failing.broken = await start("service2", {
    ...quiet,
    ...timeouts,
    SERVICE1_URL: standIn(() => new Response("<html>oops</html>", { status: 500 })),
  });
  failing.slow = await start("service2", {
    ...quiet,
    ...timeouts,
    SERVICE1_URL: standIn(async () => {
      await Bun.sleep(2000);
      return new Response("late");
    }),
  });
  draining.service1 = await start("service1", { ...quiet, SHUTDOWN_DELAY_MS: "20000", DRAIN_TIMEOUT_MS: "100" });
  draining.service2 = await start("service2", {
    ...quiet,
    SHUTDOWN_DELAY_MS: "20000",
    DRAIN_TIMEOUT_MS: "100",
    SERVICE1_URL: service1.url,
  });
  for (const process of Object.values(draining)) process.process.kill("SIGTERM");

  for (const [name, process] of [
    ["service1", service1],
    ["service2", service2],
  ] as const) {
    documents[name] = (await (await fetch(`${process.url}/openapi/json`)).json()) as OpenAPIV3_1.Document;
    const dereferenced = await SwaggerParser.dereference(structuredClone(documents[name]) as never);
    checkers[name] = new DocumentChecker(name, dereferenced as unknown as Dereferenced);
  }
}, 30_000);

afterAll(async () => {
  for (const server of servers) server.stop(true);
  await stopAll(started);
});

/** An openapi-fetch client typed from the generated paths that also keeps each raw answer's text. */
function typedClient<Paths extends {}>(baseUrl: string) {
  let last: { response: Response; text: string } | undefined;
  const api = createClient<Paths>({
    baseUrl,
    fetch: async (request) => {
      const response = await fetch(request);
      last = { response, text: await response.clone().text() };
      return response;
    },
  });
  return {
    api,
    last: () => {
      if (!last) throw new Error("no call yet");
      return last;
    },
  };
}

/** Answers are checked from their raw text, so the client never parses them itself. */
const RAW = { parseAs: "text" } as const;
const TEXT_BODY = {
  ...RAW,
  bodySerializer: (body: unknown) => String(body),
  headers: { "content-type": "text/plain" },
};

describe("the live documents", () => {
  test.each(["service1", "service2"] as const)(
    "%s's document passes swagger-parser's OpenAPI 3.1 validation",
    async (name) => {
      await SwaggerParser.validate(structuredClone(documents[name]) as never);
      expect(documents[name].openapi).toBe("3.1.0");
      expect(Object.keys(documents[name].paths ?? {})).toContain("/openapi/json");
    },
  );

  test.each(["service1", "service2"] as const)(
    "the typed client generated from %s's document is the one committed (bun tests/openapi/generate.ts)",
    async (name) => {
      expect(await generateTypes(documents[name], name)).toBe(await Bun.file(GENERATED[name]).text());
    },
  );
});

describe("every route through the generated client, every answer as documented", () => {
  test("service1", async () => {
    const check = checkers.service1;
    const { api, last } = typedClient<Service1Paths>(service1.url);
    const record = async (method: string, path: string) => check.operation(method, path, last().response, last().text);

    await api.GET("/v1/timestamp", RAW);
    await record("get", "/v1/timestamp");
    await api.GET("/", RAW);
    await record("get", "/");
    await api.POST("/", { body: "timestamp", ...TEXT_BODY });
    await record("post", "/");
    expect(last().text).toMatch(/^\d+\n$/);
    await api.POST("/", { body: "x".repeat(LIMIT + 1), ...TEXT_BODY });
    await record("post", "/");
    expect(last().response.status).toBe(413);
    for (const path of ["/healthz", "/readyz", "/_/health", "/version", "/metrics", "/openapi/json"] as const) {
      await api.GET(path, RAW);
      await record("get", path);
    }
    const { api: drainingApi, last: drainingLast } = typedClient<Service1Paths>(draining.service1.url);
    await drainingApi.GET("/readyz", RAW);
    await check.operation("get", "/readyz", drainingLast().response, drainingLast().text);
    expect(drainingLast().response.status).toBe(503);
  });

  test("service2, with service1 up, down, broken and too slow", async () => {
    const check = checkers.service2;
    const clients = {
      up: typedClient<Service2Paths>(service2.url),
      down: typedClient<Service2Paths>(failing.down.url),
      broken: typedClient<Service2Paths>(failing.broken.url),
      slow: typedClient<Service2Paths>(failing.slow.url),
      draining: typedClient<Service2Paths>(draining.service2.url),
    };
    const expectStatus = async (client: keyof typeof clients, method: string, path: string, status: number) => {
      const { response, text } = clients[client].last();
      await check.operation(method, path, response, text);
      expect({ client, method, path, status: response.status }).toEqual({ client, method, path, status });
    };
    const { up } = clients;

    await up.api.GET("/v1/format", {
      ...RAW,
      params: { query: { pattern: "EEEE d MMMM yyyy", tz: "europe/zagreb", locale: "HR-hr" } },
    });
    await expectStatus("up", "get", "/v1/format", 200);
    expect(JSON.parse(up.last().text)).toMatchObject({ tz: "Europe/Zagreb", locale: "hr-HR" });
    await up.api.GET("/v1/format", { ...RAW, params: { query: { tz: "local" } } });
    await expectStatus("up", "get", "/v1/format", 400);
    await up.api.POST("/v1/format", { ...RAW, body: { epoch: 0, tz: "UTC+05:30", pattern: "yyyy-MM-dd HH:mm" } });
    await expectStatus("up", "post", "/v1/format", 200);
    expect(JSON.parse(up.last().text).formatted).toBe("1970-01-01 05:30");
    await up.api.POST("/v1/format", { ...RAW, body: { epoch: "0" } as never });
    await expectStatus("up", "post", "/v1/format", 400);
    await up.api.POST("/v1/format", {
      ...RAW,
      body: { iso: "2025-10-28T14:10:34Z", pattern: `'${"x".repeat(LIMIT)}'` },
    });
    await expectStatus("up", "post", "/v1/format", 413);

    for (const [client, status] of [
      ["up", 200],
      ["down", 503],
      ["broken", 502],
      ["slow", 504],
    ] as const) {
      const { api } = clients[client];
      await api.GET("/v1/format", RAW);
      await expectStatus(client, "get", "/v1/format", status);
      await api.GET("/", RAW);
      await expectStatus(client, "get", "/", status);
      await api.POST("/", { body: "timestamp", ...TEXT_BODY });
      await expectStatus(client, "post", "/", status);
    }
    await up.api.POST("/", { body: "yesterday", ...TEXT_BODY });
    await expectStatus("up", "post", "/", 400);
    await up.api.POST("/", { body: "x".repeat(LIMIT + 1), ...TEXT_BODY });
    await expectStatus("up", "post", "/", 413);

    for (const path of ["/healthz", "/readyz", "/_/health", "/version", "/metrics", "/openapi/json"] as const) {
      await up.api.GET(path, RAW);
      await expectStatus("up", "get", path, 200);
    }
    await clients.draining.api.GET("/readyz", RAW);
    await expectStatus("draining", "get", "/readyz", 503);
  });

  test.each(["service1", "service2"] as const)(
    "%s: a GET that declares a body over the limit gets the documented 413 on every route",
    async (name) => {
      const process = name === "service1" ? service1 : service2;
      const paths = Object.entries(documents[name].paths ?? {}).filter(([, item]) => item?.get);
      expect(paths.length).toBeGreaterThan(5);
      for (const [path] of paths) {
        const raw = await rawRequest(
          process.port,
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${process.port}\r\nContent-Length: ${LIMIT + 1}\r\nConnection: close\r\n\r\n`,
        );
        const parsed = parseResponse(raw);
        if (!parsed) throw new Error(`no HTTP answer from GET ${path}: ${raw}`);
        const response = new Response(parsed.body, { status: parsed.status, headers: parsed.headers });
        expect({ path, status: parsed.status }).toEqual({ path, status: 413 });
        await checkers[name].operation("get", path, response, parsed.body);
      }
    },
  );

  test.each(["service1", "service2"] as const)(
    "%s: unknown paths and methods answer the document's NotFound and MethodNotAllowed",
    async (name) => {
      const process = name === "service1" ? service1 : service2;
      const notFound = await fetch(`${process.url}/v2/nothing-here`);
      expect(notFound.status).toBe(404);
      await checkers[name].unmatched("NotFound", notFound);
      const wrongMethod = await fetch(`${process.url}/healthz`, { method: "DELETE" });
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get("allow")).toBe("GET");
      await checkers[name].unmatched("MethodNotAllowed", wrongMethod);
    },
  );

  test.each(["service1", "service2"] as const)(
    "%s: every documented status (500 aside) was produced by some call",
    (name) => {
      expect(checkers[name].unexercised()).toEqual([]);
    },
  );

  test("an answer the document does not list fails the check", async () => {
    const undocumented = new Response(JSON.stringify({ error: { code: "TEAPOT", message: "no" } }), {
      status: 418,
      headers: { "content-type": "application/json", "x-request-id": "r-1" },
    });
    expect(checkers.service1.operation("get", "/v1/timestamp", undocumented)).rejects.toThrow("status not documented");
    const wrongShape = new Response(JSON.stringify({ epoch: "soon" }), {
      status: 200,
      headers: { "content-type": "application/json", "x-request-id": "r-2" },
    });
    expect(checkers.service1.operation("get", "/v1/timestamp", wrongShape)).rejects.toThrow("does not match");
    const wrongType = new Response("1", {
      status: 200,
      headers: { "content-type": "text/html", "x-request-id": "r-3" },
    });
    expect(checkers.service1.operation("get", "/v1/timestamp", wrongType)).rejects.toThrow("is not documented");
  });
});
