import { openapi } from "@elysiajs/openapi";
import { Elysia, t, type ValidationError } from "elysia";
import type { BuildInfo } from "./build-info";
import { errorBody, HttpError } from "./errors";
import type { Logger } from "./logger";
import { createHttpMetrics, type HttpMetrics, UNMATCHED_ROUTE } from "./metrics";

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
  metrics?: HttpMetrics;
}

const REQUEST_ID_HEADER = "x-request-id";
/** Ids of other callers whose requests a caller (service2) folded into this one; logged beside ours. */
const JOINED_REQUEST_IDS_HEADER = "x-joined-request-ids";
const MAX_JOINED_HEADER_LENGTH = 16_384;
/** Accept a caller's id only if it is short and harmless to log and forward. */
const VALID_REQUEST_ID = /^[\w.:-]{1,128}$/;

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-store",
};

export const ErrorSchema = t.Object(
  { error: t.Object({ code: t.String(), message: t.String() }) },
  { description: "Every JSON error: a stable code and a message that names the field at fault." },
);

export const VersionSchema = t.Object({
  service: t.String(),
  version: t.String(),
  commit: t.String(),
  built: t.String(),
});

const StatusSchema = t.Object({ status: t.String() });

/** Probes and scrapes arrive every few seconds from machines: their successes log at debug. */
const PROBES = new Set(["/healthz", "/readyz", "/_/health", "/metrics"]);

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** "query field 'tz': Expected string" from Elysia's validation error. */
function describeValidation(error: Readonly<ValidationError>): string {
  const first = error.all[0];
  const where = error.type === "body" ? "body" : error.type;
  const field = first && "path" in first && first.path ? first.path.slice(1).replaceAll("/", ".") : "";
  const reason =
    (first && "summary" in first && first.summary) || (first && "message" in first && first.message) || "is invalid";
  return field ? `${where} field '${field}': ${reason}` : `${where}: ${reason}`;
}

/**
 * The base every service builds on: request ids, access logs, metrics, the error shape, the body
 * limit, security headers, ops routes and the OpenAPI document. Hooks are global so they cover
 * the routes a service adds after it.
 */
export function createServiceApp(options: ServiceAppOptions) {
  const { info, logger, maxBodyBytes } = options;
  const lifecycle = options.lifecycle ?? { state: "ready" };
  const metrics = options.metrics ?? createHttpMetrics(info.service);
  // Filled in once the app exists: the 405 check needs every route, including the service's own.
  let knownRoutes: () => readonly { method: string; path: string }[] = () => [];

  // The runtime answers a bare 413 for bodies over its cap before any hook runs. Declared lengths are
  // checked against the real limit in onRequest (JSON 413); the cap, at twice that, only stops
  // chunked bodies that declare nothing.
  const app = new Elysia({ normalize: false, serve: { maxRequestBodySize: maxBodyBytes * 2 } })
    .headers(SECURITY_HEADERS)
    .decorate("requestId", "")
    .decorate("startedAt", 0)
    .decorate("log", logger)
    .onRequest((ctx) => {
      ctx.startedAt = performance.now();
      const incoming = ctx.request.headers.get(REQUEST_ID_HEADER);
      const requestId = incoming && VALID_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
      ctx.requestId = requestId;
      ctx.set.headers[REQUEST_ID_HEADER] = requestId;

      const length = Number(ctx.request.headers.get("content-length") ?? 0);
      if (length > maxBodyBytes) {
        ctx.set.status = 413;
        return errorBody("BODY_TOO_LARGE", `request body is ${length} bytes; the limit is ${maxBodyBytes}`);
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
          set.status = 400;
          return errorBody("INVALID_REQUEST", describeValidation(error));
        case "PARSE":
          set.status = 400;
          return errorBody("INVALID_BODY", "the request body is not valid JSON");
      }
      if (error instanceof HttpError) {
        set.status = error.status;
        return errorBody(error.code, error.message);
      }
      logger.error({ requestId, err: error }, "unhandled error");
      set.status = 500;
      return errorBody("INTERNAL", "internal error; see the service log for this request id");
    })
    .onAfterResponse({ as: "global" }, ({ request, route, path, set, requestId, startedAt }) => {
      const seconds = (performance.now() - startedAt) / 1000;
      const status = typeof set.status === "number" ? set.status : 200;
      metrics.observe(request.method, route || UNMATCHED_ROUTE, status, seconds);
      const entry: Record<string, unknown> = {
        requestId,
        method: request.method,
        path: clip(path),
        status,
        ms: Math.round(seconds * 1e4) / 10,
      };
      const joined = request.headers.get(JOINED_REQUEST_IDS_HEADER);
      if (joined && joined.length <= MAX_JOINED_HEADER_LENGTH) {
        entry.joinedRequestIds = joined.split(",").filter((id) => VALID_REQUEST_ID.test(id));
      }
      if (PROBES.has(path) && status < 400) logger.debug(entry, "request");
      else logger.info(entry, "request");
    })
    .use(
      openapi({
        path: "/openapi",
        documentation: { info: { title: info.service, version: info.version, description: options.description } },
      }),
    )
    .get("/healthz", () => ({ status: "ok" }), {
      response: StatusSchema,
      detail: { summary: "Liveness: answers while the process runs; no dependencies.", tags: ["ops"] },
    })
    .get(
      "/readyz",
      ({ set }) => {
        if (lifecycle.state !== "ready") set.status = 503;
        return { status: lifecycle.state };
      },
      {
        response: { 200: StatusSchema, 503: StatusSchema },
        detail: { summary: "Readiness: 503 while starting or draining.", tags: ["ops"] },
      },
    )
    .get("/_/health", () => new Response("OK", { headers: { "content-type": "text/plain" } }), {
      detail: { summary: "Legacy OpenFaaS watchdog health path.", tags: ["ops"] },
    })
    .get("/version", () => info, {
      response: VersionSchema,
      detail: { summary: "Build version, commit and time.", tags: ["ops"] },
    })
    .get(
      "/metrics",
      async () =>
        new Response(await metrics.registry.metrics(), {
          headers: { "content-type": metrics.registry.contentType },
        }),
      { detail: { summary: "Prometheus metrics.", tags: ["ops"] } },
    );
  knownRoutes = () => app.routes;
  return app;
}
