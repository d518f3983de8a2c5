import { isIP } from "node:net";
import type { CounterFamily, Logger, Metrics } from "@timekit/runtime";

/** One address behind service1's name. */
export interface Endpoint {
  address: string;
  port: number;
}

/** Every address a host name stands for now (A and AAAA). Tests put several local processes behind one name. */
export type Resolve = (hostname: string, port: number) => Promise<Endpoint[]>;

/**
 * getaddrinfo, as the system resolver sees it: /etc/hosts, then DNS (Compose's embedded DNS answers
 * a service name with every replica's address). It keeps no cache, unlike fetch's own 30 s one, so
 * each lookup sees replicas come and go.
 */
export const systemResolve: Resolve = async (hostname, port) => {
  if (isIP(hostname)) return [{ address: hostname, port }];
  const records = await Bun.dns.lookup(hostname, { family: 0, backend: "system" });
  return records.map((record) => ({ address: record.address, port }));
};

/** At most this many addresses are used (and labelled in metrics); a bigger answer is cut. */
export const MAX_ENDPOINTS = 32;
/** A failed address is avoided this long, unless every address failed. */
const FAILED_ADDRESS_PAUSE_MS = 1000;
/** Lookups after connection failures are at least this far apart. */
const MIN_RESOLVE_GAP_MS = 100;

/** An address with its own keep-alive pool (a Bun.FetchSession) and its own counts. */
export class EndpointState {
  outstanding = 0;
  failedAt = Number.NEGATIVE_INFINITY;
  readonly session: Bun.FetchSession;
  readonly origin: string;

  constructor(
    readonly key: string,
    readonly endpoint: Endpoint,
    url: URL,
    tls?: BunFetchRequestInitTLS,
  ) {
    const host = endpoint.address.includes(":") ? `[${endpoint.address}]` : endpoint.address;
    this.origin = `${url.protocol}//${host}:${endpoint.port}`;
    // Connecting by address: for https the TLS server name (SNI) and the certificate check stay
    // those of the configured host, not of the address.
    this.session = new Bun.FetchSession(
      url.protocol === "https:" ? { tls: { ...tls, serverName: url.hostname.replace(/^\[|\]$/g, "") } } : {},
    );
  }
}

export interface EndpointPoolOptions {
  url: URL;
  resolve: Resolve;
  intervalMs: number;
  logger: Logger;
  metrics?: Metrics;
  /** Extra TLS options for https (a CA); the server name is always the configured host. */
  tls?: BunFetchRequestInitTLS;
}

function endpointKey({ address, port }: Endpoint): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

function defaultPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/**
 * Spreads calls to service1 over every address its name resolves to: the address with the fewest
 * calls in flight, ties taken in turn. The name is looked up again every `intervalMs` and soon after
 * a connection to an address fails; addresses that vanish are dropped (their idle connections
 * closed), new ones get calls from the next pick on. Until the first lookup answers, and whenever
 * no lookup has ever answered, calls go to the configured URL as written.
 */
export class EndpointPool {
  private endpoints: EndpointState[] = [];
  private next = 0;
  private resolving?: Promise<void>;
  private lastResolveAt = Number.NEGATIVE_INFINITY;
  private followUp?: ReturnType<typeof setTimeout>;
  private timer?: ReturnType<typeof setInterval>;
  private readonly port: number;
  private readonly calls?: CounterFamily<"endpoint" | "outcome">;
  private readonly resolutions?: CounterFamily<"outcome">;
  /** Resolves once the first lookup finished, whatever it found. */
  readonly ready: Promise<void>;

  constructor(private readonly options: EndpointPoolOptions) {
    this.port = defaultPort(options.url);
    if (options.metrics) {
      this.calls = options.metrics.counter({
        name: "upstream_endpoint_requests_total",
        help: "Attempts from service2 to each service1 address, by outcome (ok, failed). Addresses that vanish are removed.",
        labelNames: ["endpoint", "outcome"] as const,
      });
      this.resolutions = options.metrics.counter({
        name: "upstream_resolutions_total",
        help: "Lookups of service1's name, by outcome (ok, failed, empty).",
        labelNames: ["outcome"] as const,
      });
      options.metrics.gauge({
        name: "upstream_endpoints",
        help: "service1 addresses in use, by state (ready, paused after a failure).",
        labelNames: ["state"] as const,
        collect: (gauge) => {
          const now = performance.now();
          const paused = this.endpoints.filter((endpoint) => this.isPaused(endpoint, now)).length;
          gauge.set({ state: "ready" }, this.endpoints.length - paused);
          gauge.set({ state: "paused" }, paused);
        },
      });
    }
    this.ready = this.refresh();
    this.timer = setInterval(() => void this.refresh(), options.intervalMs);
    this.timer.unref();
  }

  /** Addresses in use now. */
  get current(): readonly EndpointState[] {
    return this.endpoints;
  }

  private isPaused(endpoint: EndpointState, now: number): boolean {
    return now - endpoint.failedAt < FAILED_ADDRESS_PAUSE_MS;
  }

  /**
   * The address for the next attempt: fewest calls in flight among those not tried in this call and
   * not paused after a failure; ties in turn. Falls back to paused or tried ones rather than none.
   */
  pick(tried: ReadonlySet<EndpointState>): EndpointState | undefined {
    const count = this.endpoints.length;
    if (count === 0) return undefined;
    const now = performance.now();
    const start = this.next++ % count;
    let best: EndpointState | undefined;
    let bestRank = Number.POSITIVE_INFINITY;
    for (let i = 0; i < count; i++) {
      const endpoint = this.endpoints[(start + i) % count] as EndpointState;
      // Untried and ready first, then untried but paused, then anything; fewest in flight within each.
      const tier = tried.has(endpoint) ? 2 : this.isPaused(endpoint, now) ? 1 : 0;
      const rank = tier * 1e9 + endpoint.outstanding;
      if (rank < bestRank) {
        best = endpoint;
        bestRank = rank;
      }
    }
    return best;
  }

  /** Counts the outcome; a failed connection pauses the address and asks for a fresh lookup. */
  record(endpoint: EndpointState, outcome: "ok" | "failed", connectionFailed = false): void {
    this.calls?.inc({ endpoint: endpoint.key, outcome });
    if (connectionFailed) {
      endpoint.failedAt = performance.now();
      this.refreshSoon();
    }
  }

  /** A lookup now, or as soon as MIN_RESOLVE_GAP_MS has passed since the last one. */
  refreshSoon(): void {
    if (this.resolving || this.followUp) return;
    const wait = this.lastResolveAt + MIN_RESOLVE_GAP_MS - performance.now();
    if (wait <= 0) {
      void this.refresh();
      return;
    }
    this.followUp = setTimeout(() => {
      this.followUp = undefined;
      void this.refresh();
    }, wait);
    this.followUp.unref();
  }

  /** Looks the name up and swaps in the new address list; a failed or empty answer keeps the old one. */
  refresh(): Promise<void> {
    this.resolving ??= this.lookUp().finally(() => {
      this.resolving = undefined;
      this.lastResolveAt = performance.now();
    });
    return this.resolving;
  }

  private async lookUp(): Promise<void> {
    const { url, resolve, logger } = this.options;
    let found: Endpoint[];
    try {
      found = await resolve(url.hostname.replace(/^\[|\]$/g, ""), this.port);
    } catch (error) {
      this.resolutions?.inc({ outcome: "failed" });
      logger.warn(
        { host: url.hostname, err: (error as Error).message },
        "service1 lookup failed; keeping the addresses known",
      );
      return;
    }
    if (found.length === 0) {
      this.resolutions?.inc({ outcome: "empty" });
      logger.warn({ host: url.hostname }, "service1 lookup found no address; keeping the addresses known");
      return;
    }
    this.resolutions?.inc({ outcome: "ok" });
    this.replace(found);
  }

  private replace(found: Endpoint[]): void {
    const byKey = new Map(this.endpoints.map((endpoint) => [endpoint.key, endpoint]));
    const next: EndpointState[] = [];
    const seen = new Set<string>();
    for (const endpoint of found) {
      const key = endpointKey(endpoint);
      if (seen.has(key) || next.length >= MAX_ENDPOINTS) continue;
      seen.add(key);
      next.push(byKey.get(key) ?? new EndpointState(key, endpoint, this.options.url, this.options.tls));
    }
    const added = next.filter((endpoint) => !byKey.has(endpoint.key)).map((endpoint) => endpoint.key);
    const removed = this.endpoints.filter((endpoint) => !seen.has(endpoint.key));
    for (const endpoint of removed) {
      // Calls in flight on it finish (or fail and retry elsewhere); its idle connections close now.
      endpoint.session.close();
      this.calls?.remove({ endpoint: endpoint.key, outcome: "ok" });
      this.calls?.remove({ endpoint: endpoint.key, outcome: "failed" });
    }
    this.endpoints = next;
    if (added.length > 0 || removed.length > 0) {
      this.options.logger.info(
        {
          host: this.options.url.hostname,
          added,
          removed: removed.map((endpoint) => endpoint.key),
          total: next.length,
        },
        "service1 addresses changed",
      );
    }
  }

  /** Stops the periodic lookups and closes every idle connection. */
  close(): void {
    clearInterval(this.timer);
    clearTimeout(this.followUp);
    for (const endpoint of this.endpoints) endpoint.session.close();
    this.endpoints = [];
  }
}
