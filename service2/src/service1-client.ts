import { TypeCompiler } from "@sinclair/typebox/compiler";
import {
  type CounterFamily,
  DURATION_BUCKETS,
  type HistogramFamily,
  HttpError,
  type Logger,
  type Metrics,
} from "@timekit/runtime";
import { TIMESTAMP_PATH, type Timestamp, TimestampSchema } from "@timekit/service1/contract";
import { EndpointPool, type EndpointState, type Resolve, systemResolve } from "./endpoints";

export interface Service1ClientOptions {
  /** SERVICE1_URL; credentials in it are sent as Basic auth and never shown to clients or in logs. */
  baseUrl: string;
  /** Budget for the whole call, retries included: the caller always has an answer by then. */
  timeoutMs: number;
  /**
   * Budget for one attempt. A connection to an address that vanished (a replaced replica still in
   * a DNS cache) hangs rather than failing; giving up on the attempt and retrying finds a live one.
   */
  attemptTimeoutMs: number;
  /** Extra attempts after a connection failure, an attempt timeout or a 502/503/504 from service1. */
  retries: number;
  /** First backoff; doubles each retry, with full jitter, never past the budget. */
  backoffMs: number;
  /** How often the host is looked up again for its addresses. */
  resolveIntervalMs: number;
  /** Finds every address of the host; the system resolver unless a test puts its own. */
  resolve?: Resolve;
  /** TLS options for https (tests pass their own CA); the server name stays the configured host. */
  tls?: BunFetchRequestInitTLS;
  logger: Logger;
  metrics?: Metrics;
  fetch?: typeof fetch;
}

/** The URL with its password replaced, for logs: operators see which user and host, never the secret. */
export function redactUrl(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url.href);
  if (copy.password) copy.password = "redacted";
  return copy.href;
}

export type LegacyWord = "iso" | "timestamp";

const isTimestamp = TypeCompiler.Compile(TimestampSchema);
/** Bounds one shared call's id header (service1 logs at most 16 KiB of joined ids). */
const MAX_SHARED_CALLERS = 64;
const RETRYABLE_STATUS = new Set([502, 503, 504]);

interface UpstreamRequest {
  method: string;
  path: string;
  body?: string;
  /** Request ids of callers sharing this call, logged by service1 beside the main one. */
  joined?: string[];
}

type Outcome = "ok" | "timeout" | "unavailable" | "bad_response";

class Attempt {
  constructor(
    readonly outcome: Exclude<Outcome, "ok">,
    readonly detail: string,
    readonly retryable: boolean,
    /** The address did not answer at all (refused, reset, timed out): pause it and look the name up again. */
    readonly addressFailed = false,
  ) {}
}

/** An error code such as ECONNREFUSED or ConnectionRefused; never a message that could hold a URL. */
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^[A-Za-z_]{1,40}$/.test(code) ? code : "connection failed";
}

/**
 * service2's only way to reach service1. Both calls read the clock and change nothing, so they are
 * safe to retry. Calls are spread over every address of service1's name (EndpointPool), each with
 * its own keep-alive pool; a retry goes to an address not yet tried in the same call.
 */
export class Service1Client {
  private readonly calls?: CounterFamily<"operation" | "outcome">;
  private readonly duration?: HistogramFamily<"operation">;
  private readonly fetch: typeof fetch;
  private readonly url: URL;
  /** Path prefix of SERVICE1_URL, without a trailing slash. */
  private readonly basePath: string;
  private readonly authorization?: string;
  private readonly redacted: string;
  readonly endpoints: EndpointPool;
  private endpointsReady = false;

  constructor(private readonly options: Service1ClientOptions) {
    this.fetch = options.fetch ?? fetch;
    const url = new URL(options.baseUrl);
    this.redacted = redactUrl(url);
    if (url.username || url.password) {
      const user = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      this.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
      url.username = "";
      url.password = "";
    }
    this.url = url;
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.endpoints = new EndpointPool({
      url,
      resolve: options.resolve ?? systemResolve,
      intervalMs: options.resolveIntervalMs,
      logger: options.logger,
      metrics: options.metrics,
      tls: options.tls,
    });
    void this.endpoints.ready.then(() => {
      this.endpointsReady = true;
    });
    if (options.metrics) {
      this.calls = options.metrics.counter({
        name: "upstream_requests_total",
        help: "Calls from service2 to service1, by operation and outcome (ok, timeout, unavailable, bad_response).",
        labelNames: ["operation", "outcome"] as const,
      });
      this.duration = options.metrics.histogram({
        name: "upstream_request_duration_seconds",
        help: "Time spent on a call to service1, retries included.",
        labelNames: ["operation"] as const,
        buckets: DURATION_BUCKETS,
      });
    }
  }

  private nextBatch?: { requestIds: string[]; answer: Promise<Timestamp> };

  /**
   * `GET /v1/timestamp`, checked against service1's own response schema. Callers that arrive
   * before the call is sent share it (up to MAX_SHARED_CALLERS): the call leaves on the next turn
   * of the event loop, so service1 reads its clock after every one of them arrived, and each still
   * gets "the current time". Their request ids travel with it for service1's log.
   */
  timestamp(requestId: string): Promise<Timestamp> {
    const waiting = this.nextBatch;
    if (waiting && waiting.requestIds.length < MAX_SHARED_CALLERS) {
      waiting.requestIds.push(requestId);
      return waiting.answer;
    }
    const requestIds = [requestId];
    const answer = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      if (this.nextBatch?.requestIds === requestIds) this.nextBatch = undefined;
      return this.fetchTimestamp(requestIds);
    });
    this.nextBatch = { requestIds, answer };
    return answer;
  }

  private fetchTimestamp(requestIds: string[]): Promise<Timestamp> {
    const [first = "", ...joined] = requestIds;
    return this.call("timestamp", first, { method: "GET", path: TIMESTAMP_PATH, joined }, async (response) => {
      const body: unknown = await response.json().catch(() => undefined);
      return isTimestamp.Check(body) ? body : undefined;
    });
  }

  /** The legacy text route: `POST /` with the word; the answer parsed to epoch milliseconds. */
  legacy(word: LegacyWord, requestId: string): Promise<number> {
    return this.call("legacy", requestId, { method: "POST", path: "/", body: word }, async (response) => {
      const text = (await response.text()).trim();
      if (word === "timestamp") return /^-?\d{1,13}$/.test(text) ? Number(text) * 1000 : undefined;
      const ms = Date.parse(text);
      return /^\d{4}-\d\d-\d\dT/.test(text) && Number.isFinite(ms) ? ms : undefined;
    });
  }

  private async call<T>(
    operation: string,
    requestId: string,
    request: UpstreamRequest,
    parse: (response: Response) => Promise<T | undefined>,
  ): Promise<T> {
    const { timeoutMs, retries, backoffMs } = this.options;
    const started = performance.now();
    const deadline = started + timeoutMs;
    let last: Attempt | undefined;
    const tried = new Set<EndpointState>();
    if (!this.endpointsReady) {
      // The first lookup is still running (just after start): wait for it, within the budget.
      await Promise.race([this.endpoints.ready, Bun.sleep(Math.max(0, deadline - performance.now()))]);
    }

    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        const pause = Math.random() * backoffMs * 2 ** (attempt - 1);
        if (performance.now() + pause >= deadline) break;
        await Bun.sleep(pause);
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) break;
      const endpoint = this.endpoints.pick(tried);
      if (endpoint) tried.add(endpoint);
      const result = await this.attempt(
        endpoint,
        request,
        requestId,
        Math.min(remaining, this.options.attemptTimeoutMs),
        parse,
      );
      if (!(result instanceof Attempt)) {
        this.record(operation, "ok", started);
        return result;
      }
      last = result;
      if (!result.retryable) break;
      this.options.logger.warn(
        {
          requestId,
          operation,
          attempt: attempt + 1,
          service1: this.redacted,
          endpoint: endpoint?.key ?? "by name",
          detail: result.detail,
        },
        "service1 call failed",
      );
    }

    const failure =
      last === undefined || performance.now() >= deadline
        ? new Attempt("timeout", `within ${timeoutMs} ms`, false)
        : last;
    this.record(operation, failure.outcome, started);
    throw this.toHttpError(failure.outcome, failure.detail);
  }

  /** One attempt at one address (or by name, before any address is known), counted for that address. */
  private async attempt<T>(
    endpoint: EndpointState | undefined,
    request: UpstreamRequest,
    requestId: string,
    remainingMs: number,
    parse: (response: Response) => Promise<T | undefined>,
  ): Promise<T | Attempt> {
    if (!endpoint) return this.send(undefined, request, requestId, remainingMs, parse);
    endpoint.outstanding++;
    try {
      const result = await this.send(endpoint, request, requestId, remainingMs, parse);
      const failed = result instanceof Attempt;
      this.endpoints.record(endpoint, failed ? "failed" : "ok", failed && result.addressFailed);
      return result;
    } finally {
      endpoint.outstanding--;
    }
  }

  private async send<T>(
    endpoint: EndpointState | undefined,
    request: UpstreamRequest,
    requestId: string,
    remainingMs: number,
    parse: (response: Response) => Promise<T | undefined>,
  ): Promise<T | Attempt> {
    let response: Response;
    try {
      response = await this.fetch((endpoint?.origin ?? this.url.origin) + this.basePath + request.path, {
        method: request.method,
        body: request.body,
        session: endpoint?.session,
        headers: {
          host: this.url.host,
          "x-request-id": requestId,
          ...(this.authorization ? { authorization: this.authorization } : {}),
          ...(request.joined?.length ? { "x-joined-request-ids": request.joined.join(",") } : {}),
          ...(request.body ? { "content-type": "text/plain" } : {}),
        },
        signal: AbortSignal.timeout(Math.max(1, Math.ceil(remainingMs))),
      } as BunFetchRequestInit);
    } catch (error) {
      if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")) {
        return new Attempt("timeout", `within the ${Math.round(remainingMs)} ms attempt timeout`, true, true);
      }
      return new Attempt("unavailable", `cannot connect (${errorCode(error)})`, true, true);
    }
    try {
      if (response.status !== 200) {
        await response.body?.cancel();
        return new Attempt(
          RETRYABLE_STATUS.has(response.status) ? "unavailable" : "bad_response",
          `answered HTTP ${response.status}`,
          RETRYABLE_STATUS.has(response.status),
        );
      }
      const parsed = await parse(response);
      return parsed === undefined
        ? new Attempt("bad_response", "answered a body that is not a timestamp", false)
        : parsed;
    } catch (error) {
      if (error instanceof DOMException && error.name === "TimeoutError") {
        return new Attempt("timeout", `within the ${Math.round(remainingMs)} ms attempt timeout`, true, true);
      }
      return new Attempt("bad_response", `answer could not be read (${errorCode(error)})`, false);
    }
  }

  private record(operation: string, outcome: Outcome, started: number): void {
    this.calls?.labels({ operation, outcome }).inc();
    this.duration?.labels({ operation }).observe((performance.now() - started) / 1000);
  }

  /** What the caller sees: no URL or address, only what went wrong. */
  private toHttpError(outcome: Exclude<Outcome, "ok">, detail: string): HttpError {
    const where = "service1";
    switch (outcome) {
      case "timeout":
        return new HttpError(504, "UPSTREAM_TIMEOUT", `${where} did not answer ${detail}`);
      case "unavailable":
        return new HttpError(503, "UPSTREAM_UNAVAILABLE", `${where} is unavailable: ${detail}`);
      case "bad_response":
        return new HttpError(502, "UPSTREAM_BAD_RESPONSE", `${where} ${detail}`);
    }
  }
}
