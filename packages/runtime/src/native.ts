import type { TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import type { AnyElysia } from "elysia";
import { parseQueryFromURL } from "elysia/parse-query";
import { pathOf, REQUEST_ID_HEADER, type RequestLane, SECURITY_HEADERS } from "./lane";
import type { Logger } from "./logger";
import type { RouteSeries } from "./metrics";

/**
 * The runtime's native lane: a GET route the service names is answered straight from Bun's route
 * table, with the request id, body limit, headers, metrics and access log of the RequestLane, and
 * without Elysia's per-request hook machinery (which cost service1 about as much CPU as Bun's whole
 * HTTP exchange: bench/REPORT.md). The route stays declared in Elysia, so its schema, OpenAPI entry
 * and error answers are Elysia's: a request the lane does not take as it is (a query that does not
 * pass the route's schema, for one) is handed to Elysia's own handler and answered exactly as before.
 */

/** What a natively served handler is given; a subset of Elysia's context with the same names. */
export interface NativeContext {
  request: Request;
  requestId: string;
  query: Record<string, string>;
  set: { status: number; headers: Record<string, string> };
  path: string;
  route: string;
  log: Logger;
  startedAt: number;
}

type Handler = (context: NativeContext) => unknown;
type BunHandler = (request: Request) => Response | Promise<Response>;

interface RouteRecord {
  method: string;
  path: string;
  handler: unknown;
  hooks: { query?: TSchema; body?: TSchema; params?: TSchema; response?: TSchema | Record<number, TSchema> };
}

const JSON_TYPE = "application/json;charset=utf-8";

function isSchema(value: unknown): value is TSchema {
  return typeof value === "object" && value !== null && ("type" in value || "anyOf" in value || "$ref" in value);
}

/** The route's JSON answer schemas, by status. */
function responseSchemas(route: RouteRecord): Map<number, TSchema> {
  const schemas = new Map<number, TSchema>();
  const response = route.hooks.response;
  if (isSchema(response)) schemas.set(200, response);
  else if (response) {
    for (const [status, schema] of Object.entries(response)) schemas.set(Number(status), schema);
  }
  return schemas;
}

/**
 * A check compiled on its first use: compiling costs milliseconds of cold code at start-up, and
 * the process should answer its probes before the hot route's first caller arrives.
 */
function compiledOnFirstUse(schema: TSchema): () => TypeCheck<TSchema> {
  let check: TypeCheck<TSchema> | undefined;
  return () => {
    check ??= TypeCompiler.Compile(schema);
    return check;
  };
}

/**
 * The route's query check, as Elysia applies it with `normalize: false`: the declared properties
 * only. Only string properties without defaults are taken, so that Elysia's parser and this check
 * leave nothing for Elysia to convert.
 */
function queryCheck(route: RouteRecord): (() => TypeCheck<TSchema>) | undefined {
  const schema = route.hooks.query;
  if (!schema) return undefined;
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  const unsupported = Object.entries(properties).find(
    ([, property]) => property.type !== "string" || property.default !== undefined,
  );
  if (schema.type !== "object" || unsupported) {
    throw new Error(
      `native route GET ${route.path}: its query must be strings without defaults${unsupported ? ` ('${unsupported[0]}' is not)` : ""}`,
    );
  }
  return compiledOnFirstUse({ ...schema, additionalProperties: false });
}

export interface NativeRouteOptions {
  app: AnyElysia;
  path: string;
  lane: RequestLane;
  logger: Logger;
}

/** The Bun route handler for `GET path` (HEAD included: Bun hands HEAD to the GET handler). */
export function nativeRoute({ app, path, lane, logger }: NativeRouteOptions): BunHandler {
  const route = (app.routes as unknown as RouteRecord[]).find((r) => r.method === "GET" && r.path === path);
  if (!route) throw new Error(`native route GET ${path}: no such route is declared`);
  if (typeof route.handler !== "function" || route.hooks.body || route.hooks.params || path.includes(":")) {
    throw new Error(`native route GET ${path}: only static GET routes with a handler function are served natively`);
  }
  const handler = route.handler as Handler;
  const checkQuery = queryCheck(route);
  const checkResponse = new Map(
    [...responseSchemas(route)].map(([status, schema]) => [status, compiledOnFirstUse(schema)] as const),
  );
  if (checkResponse.size === 0) {
    throw new Error(`native route GET ${path}: declare its JSON answers (a response schema)`);
  }
  const jsonHeaders = new Headers({ ...SECURITY_HEADERS, "content-type": JSON_TYPE });
  const okInit = { status: 200, headers: jsonHeaders };
  const seriesByMethod: Record<string, RouteSeries> = {
    GET: lane.series("GET", path),
    HEAD: lane.series("HEAD", path),
  };

  const answer = (context: NativeContext, series: RouteSeries, body: unknown, status: number): Response => {
    const response = Response.json(body, status === 200 ? okInit : { status, headers: jsonHeaders });
    const headers = response.headers;
    headers.set(REQUEST_ID_HEADER, context.requestId);
    for (const name in context.set.headers) headers.set(name, context.set.headers[name] as string);
    lane.finish(context.request, series.method, series, context.path, status, context.startedAt, context.requestId);
    return response;
  };
  const fail = (context: NativeContext, series: RouteSeries, error: unknown): Response => {
    const failure = lane.failure(error, context.requestId);
    return answer(context, series, failure.body, failure.status);
  };
  const respond = (context: NativeContext, series: RouteSeries, value: unknown): Response => {
    const status = context.set.status;
    if (checkResponse.get(status)?.().Check(value) === false) {
      logger.error(
        { requestId: context.requestId, route: path, status },
        "an answer does not match its response schema",
      );
      return fail(context, series, new Error("response does not match the route's schema"));
    }
    return answer(context, series, value, status);
  };

  return (request) => {
    const startedAt = performance.now();
    let query: Record<string, string> = {};
    let requestPath = path;
    // Bun matched the path exactly; the URL (costly to build) is only read for a route's query.
    if (checkQuery) {
      const url = request.url;
      const queryAt = url.indexOf("?");
      if (queryAt !== -1) {
        query = parseQueryFromURL(url, queryAt + 1) as Record<string, string>;
        requestPath = pathOf(url);
      }
      if (!checkQuery().Check(query)) return app.fetch(request) as Response | Promise<Response>;
    }
    const method = request.method;
    const series = seriesByMethod[method] ?? lane.series(method, path);
    const context: NativeContext = {
      request,
      requestId: lane.requestId(request),
      query,
      set: { status: 200, headers: {} },
      path: requestPath,
      route: path,
      log: logger,
      startedAt,
    };
    const oversize = lane.oversize(request);
    if (oversize) return answer(context, series, oversize.body, oversize.status);
    let result: unknown;
    try {
      result = handler(context);
    } catch (error) {
      return fail(context, series, error);
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => respond(context, series, value),
        (error) => fail(context, series, error),
      );
    }
    return respond(context, series, result);
  };
}
