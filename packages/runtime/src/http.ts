import { ValueErrorType } from "@sinclair/typebox/errors";
import { type AnyElysia, Elysia, t, type ValidationError } from "elysia";
import type { BuildInfo } from "./build-info";
import { errorBody } from "./errors";
import { clip, pathOf, REQUEST_ID_HEADER, RequestLane, SECURITY_HEADERS } from "./lane";
import type { Logger } from "./logger";
import { HttpMetrics, Metrics } from "./metrics";
import { nativeRoute } from "./native";
import { buildDocument, OPENAPI_PATH, operation } from "./openapi";

/** Readiness as `/readyz` reports it; `serve` moves it along. */
export interface Lifecycle {
  state: "starting" | "ready" | "draining";
}

export interface ServiceAppOptions {
  info: BuildInfo;
  description: string;
  logger: Logger;
  maxBodyBytes: number;
  lifecycle?: Lifecycle;
  /** Pass one in to register the service's own metrics beside the HTTP ones. */
  metrics?: Metrics;
  /**
   * Hot GET routes (static paths, a JSON response schema, a query of strings at most) to
   * answer from Bun's route table through the native lane once the app listens (see native.ts).
   * Their handlers get a NativeContext: request, requestId, query, set, path, route, log, startedAt.
   */
  nativeRoutes?: readonly string[];
}

/** Bun route handlers per path and method, as Elysia merges them from `serve.routes`. */
type NativeRoutes = Record<string, Record<string, (request: Request) => Response | Promise<Response>>>;

/** What `listen` needs to put the native routes in place once every route is declared. */
const nativeSetups = new WeakMap<AnyElysia, () => void>();

/** Fills in the app's native routes (call once every route is declared, before `app.listen`). */
export function prepareNativeRoutes(app: AnyElysia): void {
  nativeSetups.get(app)?.();
}

export const ErrorSchema = t.Object(
  { error: t.Object({ code: t.String(), message: t.String() }) },
  { description: "Every JSON error: a stable code and a message that names the field at fault." },
);

export const VersionSchema = t.Object(
  {
    service: t.String(),
    version: t.String(),
    commit: t.String(),
    built: t.String(),
  },
  { description: "What is running: the service, its version, the commit and build time." },
);

const StatusSchema = t.Object({ status: t.Literal("ok") }, { description: "The process runs." });

/** What a value is, for "got …" in a validation message; long strings are described, not echoed. */
function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return value.length > 40 ? `a string of ${value.length} characters` : `the string ${JSON.stringify(value)}`;
    case "number":
    case "boolean":
      return String(value);
    case "undefined":
      return "nothing";
    default:
      return `an ${typeof value}`;
  }
}

interface SchemaFacts {
  type?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, unknown>;
}

/** What the schema allows, in words: "must be an integer from -5 to 5 (a JSON number)". */
function describeSchema(schema: SchemaFacts): string | undefined {
  const range = (low?: number, high?: number) =>
    low !== undefined && high !== undefined ? ` from ${low} to ${high}` : high !== undefined ? ` up to ${high}` : "";
  switch (schema.type) {
    case "integer":
      return `must be an integer${range(schema.minimum, schema.maximum)} (a JSON number, not a string)`;
    case "number":
      return `must be a number${range(schema.minimum, schema.maximum)}`;
    case "string":
      return schema.maxLength !== undefined
        ? `must be a string of ${schema.minLength ?? 0} to ${schema.maxLength} characters`
        : "must be a string";
    case "object":
      return "must be a JSON object";
    case "boolean":
      return "must be true or false";
    default:
      return undefined;
  }
}

/** "body field 'epoch': must be an integer … ; got the string \"1\"" from Elysia's validation error. */
function describeValidation(error: Readonly<ValidationError>): string {
  const first = error.all[0];
  const where = error.type;
  if (!first || !("path" in first)) return `${where}: is invalid`;
  const field = first.path ? first.path.slice(1).replaceAll("/", ".") : "";
  const schema = first.schema as SchemaFacts;
  let reason: string;
  if (first.type === ValueErrorType.ObjectAdditionalProperties) {
    const allowed = Object.keys(schema.properties ?? {}).join(", ");
    reason = `is not a known field; allowed: ${allowed}`;
  } else if (first.type === ValueErrorType.ObjectRequiredProperty) {
    reason = "is required";
  } else {
    reason = `${describeSchema(schema) ?? first.message}; got ${describeValue(first.value)}`;
  }
  return field ? `${where} field '${field}': ${reason}` : `${where}: ${reason}`;
}

/**
 * The base every service builds on: request ids, access logs, metrics, the error shape, the body
 * limit, security headers, ops routes and the OpenAPI document. Hooks are global so they cover
 * the routes a service adds after it; routes named in `nativeRoutes` get the same from the native
 * lane instead.
 */
export function createServiceApp(options: ServiceAppOptions) {
  const { info, logger, maxBodyBytes } = options;
  const lifecycle = options.lifecycle ?? { state: "ready" };
  const metrics = options.metrics ?? new Metrics(info.service);
  const lane = new RequestLane(logger, new HttpMetrics(metrics), maxBodyBytes);
  // Filled in once the app exists: the 405 check needs every route, including the service's own.
  let knownRoutes: () => readonly { method: string; path: string }[] = () => [];
  // Built on first request, once the service has added its own routes.
  let document: Promise<string> | undefined;
  let self: () => AnyElysia = () => {
    throw new Error("the app is not built yet");
  };
  const nativeRoutes: NativeRoutes = {};

  // The runtime answers a bare 413 for bodies over its cap before any hook runs. Declared lengths are
  // checked against the real limit in onRequest (JSON 413); the cap, at twice that, only stops
  // chunked bodies that declare nothing.
  // standardHostname: false makes Elysia find the path after "http://" rather than at a fixed
  // offset, so a short Host header (`Host: s1`) can no longer shift or replace the routed path.
  // Elysia merges `serve.routes` over its own route table when it listens: that is where the
  // native routes go (prepareNativeRoutes fills the object in).
  const app = new Elysia({
    normalize: false,
    handler: { standardHostname: false },
    serve: { maxRequestBodySize: maxBodyBytes * 2, routes: nativeRoutes },
  })
    .headers(SECURITY_HEADERS)
    .decorate("requestId", "")
    .decorate("startedAt", 0)
    .decorate("log", logger)
    .onRequest((ctx) => {
      ctx.startedAt = performance.now();
      const requestId = lane.requestId(ctx.request);
      ctx.requestId = requestId;
      ctx.set.headers[REQUEST_ID_HEADER] = requestId;
      const oversize = lane.oversize(ctx.request);
      if (oversize) {
        // Elysia runs no after-response hook for an answer given here: count and log it now.
        const { request } = ctx;
        const path = pathOf(request.url);
        const route = knownRoutes().find((known) => known.method === request.method && known.path === path);
        const { method } = request;
        lane.finish(request, method, lane.series(method, route?.path), path, oversize.status, ctx.startedAt, requestId);
        ctx.set.status = oversize.status;
        return oversize.body;
      }
    })
    .onError({ as: "global" }, ({ code, error, set, request, path, requestId }) => {
      switch (code) {
        case "NOT_FOUND": {
          const allowed = knownRoutes()
            .filter((route) => route.path === path)
            .map((route) => route.method);
          if (allowed.length > 0) {
            set.status = 405;
            set.headers.allow = allowed.join(", ");
            return errorBody(
              "METHOD_NOT_ALLOWED",
              `${request.method} is not allowed on ${path}; allowed: ${allowed.join(", ")}`,
            );
          }
          set.status = 404;
          return errorBody("NOT_FOUND", `no route for ${request.method} ${clip(path)}`);
        }
        case "VALIDATION":
          if (error.type === "response") break;
          set.status = 400;
          return errorBody("INVALID_REQUEST", describeValidation(error));
        case "PARSE":
          set.status = 400;
          return errorBody("INVALID_BODY", "the request body is not valid JSON");
      }
      const failure = lane.failure(error, requestId);
      set.status = failure.status;
      return failure.body;
    })
    .onAfterResponse({ as: "global" }, ({ request, route, path, set, requestId, startedAt }) => {
      const status = typeof set.status === "number" ? set.status : 200;
      const { method } = request;
      lane.finish(request, method, lane.series(method, route), path, status, startedAt, requestId);
    })
    .get(
      OPENAPI_PATH,
      ({ set }) => {
        set.headers["content-type"] = "application/json";
        document ??= buildDocument(self(), info, options.description).then((built) => JSON.stringify(built));
        return document;
      },
      { detail: { hide: true } },
    )
    .get("/healthz", () => ({ status: "ok" as const }), {
      response: StatusSchema,
      detail: operation({
        operationId: "getLiveness",
        summary: "Liveness: answers while the process runs; no dependencies.",
        tags: ["ops"],
        examples: { 200: { status: "ok" } },
      }),
    })
    .get(
      "/readyz",
      ({ set }) => {
        if (lifecycle.state !== "ready") set.status = 503;
        return { status: lifecycle.state };
      },
      {
        response: {
          200: t.Object({ status: t.Literal("ready") }, { description: "Serving." }),
          503: t.Object(
            { status: t.Union([t.Literal("starting"), t.Literal("draining")]) },
            { description: "Starting, or draining after SIGTERM: send traffic elsewhere." },
          ),
        },
        detail: operation({
          operationId: "getReadiness",
          summary: "Readiness: 503 while starting or draining.",
          tags: ["ops"],
          examples: { 200: { status: "ready" }, 503: { status: "draining" } },
        }),
      },
    )
    .get("/_/health", () => new Response("OK", { headers: { "content-type": "text/plain; charset=utf-8" } }), {
      detail: operation({
        operationId: "getLegacyHealth",
        summary: "Legacy OpenFaaS watchdog health path.",
        tags: ["ops"],
        text: { 200: { description: "Always `OK` while the process runs.", example: "OK" } },
      }),
    })
    .get("/version", () => info, {
      response: VersionSchema,
      detail: operation({
        operationId: "getVersion",
        summary: "Build version, commit and time.",
        tags: ["ops"],
        examples: {
          200: { service: info.service, version: "1.0.0", commit: "8f8aa9ede593", built: "2026-11-29T18:21:00.000Z" },
        },
      }),
    })
    .get(
      "/metrics",
      async () => {
        const { contentType, text } = await metrics.scrape();
        return new Response(text, { headers: { "content-type": contentType } });
      },
      {
        detail: operation({
          operationId: "getMetrics",
          summary: "Prometheus metrics (text exposition format 0.0.4).",
          tags: ["ops"],
          text: {
            200: {
              description: "Request counts and latency histograms per route, process metrics.",
              example: `http_requests_total{method="GET",route="/healthz",status="200",service="${info.service}"} 1\n`,
            },
          },
        }),
      },
    );
  knownRoutes = () => app.routes;
  self = () => app;
  nativeSetups.set(app, () => {
    for (const path of options.nativeRoutes ?? []) {
      nativeRoutes[path] = { GET: nativeRoute({ app, path, lane, logger }) };
    }
  });
  return app;
}
