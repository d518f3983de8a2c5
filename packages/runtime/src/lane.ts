import { type ErrorBody, errorBody, HttpError } from "./errors";
import type { LineLevel, Logger } from "./logger";
import { type HttpMetrics, type RouteSeries, UNMATCHED_ROUTE } from "./metrics";

/**
 * What every request goes through, whether Elysia's hooks or the native route table serve it:
 * its request id, the body limit, the security headers, its metrics and its access-log line.
 */

export const REQUEST_ID_HEADER = "x-request-id";
/** Ids of other callers whose requests a caller (service2) folded into this one; logged beside ours. */
export const JOINED_REQUEST_IDS_HEADER = "x-joined-request-ids";
const MAX_JOINED_HEADER_LENGTH = 16_384;
/** Accept a caller's id only if it is short and harmless to log and forward. */
export const VALID_REQUEST_ID = /^[\w.:-]{1,128}$/;

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-store",
};

/** Probes and scrapes arrive every few seconds from machines: their successes log at debug. */
const PROBES = new Set(["/healthz", "/readyz", "/_/health", "/metrics"]);

/** The path of a request URL as the client wrote it (after the host, before the query). */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}

export function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
}

export class RequestLane {
  constructor(
    private readonly logger: Logger,
    private readonly metrics: HttpMetrics,
    readonly maxBodyBytes: number,
  ) {}

  /** The caller's id when it is safe to log and forward, else a new UUID. */
  requestId(request: Request): string {
    const incoming = request.headers.get(REQUEST_ID_HEADER);
    return incoming !== null && VALID_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  }

  /** The 413 answer when the declared body is over the limit. */
  oversize(request: Request): ErrorAnswer | undefined {
    const declared = request.headers.get("content-length");
    if (declared === null) return undefined;
    const length = Number(declared);
    if (!(length > this.maxBodyBytes)) return undefined;
    return {
      status: 413,
      body: errorBody("BODY_TOO_LARGE", `request body is ${length} bytes; the limit is ${this.maxBodyBytes}`),
    };
  }

  /** A handler's failure as the caller sees it; anything but an HttpError is logged and hidden behind a 500. */
  failure(error: unknown, requestId: string): ErrorAnswer {
    if (error instanceof HttpError) return { status: error.status, body: errorBody(error.code, error.message) };
    this.logger.error({ requestId, err: error }, "unhandled error");
    return { status: 500, body: errorBody("INTERNAL", "internal error; see the service log for this request id") };
  }

  /** The metric series of a route (a matched route's pattern, or none); keep it to skip the lookup. */
  series(method: string, route: string | undefined): RouteSeries {
    return this.metrics.route(method, route || UNMATCHED_ROUTE);
  }

  /** Routes' paths as JSON strings: the access log writes them on every request. */
  private readonly routeJson = new Map<string, string>();

  /** Counts a finished request and writes its access-log line. */
  finish(
    request: Request,
    method: string,
    series: RouteSeries,
    path: string,
    status: number,
    startedAt: number,
    requestId: string,
  ): void {
    const seconds = (performance.now() - startedAt) / 1000;
    series.record(status, seconds);
    const level: LineLevel = status < 400 && PROBES.has(path) ? "debug" : "info";
    if (!this.logger.isLevelEnabled(level)) return;
    let pathJson: string | undefined;
    if (path === series.route) {
      pathJson = this.routeJson.get(path);
      if (pathJson === undefined) {
        pathJson = JSON.stringify(clip(path));
        this.routeJson.set(path, pathJson);
      }
    } else pathJson = JSON.stringify(clip(path));
    // The id matched VALID_REQUEST_ID or is a UUID, and the server only passes known methods:
    // neither needs escaping.
    let members = `"requestId":"${requestId}","method":"${method}","path":${pathJson},"status":${status},"ms":${Math.round(seconds * 1e4) / 10}`;
    const joined = request.headers.get(JOINED_REQUEST_IDS_HEADER);
    if (joined !== null && joined.length <= MAX_JOINED_HEADER_LENGTH) {
      members += `,"joinedRequestIds":${JSON.stringify(joined.split(",").filter((id) => VALID_REQUEST_ID.test(id)))}`;
    }
    this.logger.writeSerialised(level, members, "request");
  }
}
