import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** Route label for requests that matched no route, so unknown paths cannot blow up cardinality. */
export const UNMATCHED_ROUTE = "unmatched";

export interface HttpMetrics {
  registry: Registry;
  observe(method: string, route: string, status: number, seconds: number): void;
}

/**
 * prom-client's default collectors export these gauges with a `_total` suffix, which Prometheus
 * reserves for counters (`promtool check metrics` rejects them). The same values stay available
 * as nodejs_active_handles, nodejs_active_requests and nodejs_active_resources.
 */
const GAUGES_NAMED_LIKE_COUNTERS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/** A registry per app (not prom-client's global one), so tests can build many apps side by side. */
export function createHttpMetrics(service: string, { processMetrics = true } = {}): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (processMetrics) {
    collectDefaultMetrics({ register: registry });
    for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(name);
  }

  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests served, by method, route and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time from request start to response, by method and route.",
    labelNames: ["method", "route"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  // prom-client hashes the label set on every call; the few combinations a service sees are
  // resolved once and kept, which takes that work off the hot path.
  const children = new Map<string, { count: () => void; time: (seconds: number) => void }>();
  return {
    registry,
    observe(method, route, status, seconds) {
      const key = `${method} ${route} ${status}`;
      let child = children.get(key);
      if (!child) {
        const counter = requests.labels({ method, route, status });
        const histogram = duration.labels({ method, route });
        child = { count: () => counter.inc(), time: (value) => histogram.observe(value) };
        children.set(key, child);
      }
      child.count();
      child.time(seconds);
    },
  };
}
