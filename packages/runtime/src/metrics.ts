import type { Registry } from "prom-client";

/**
 * The services' metrics, counted without prom-client on the request path and shown through it.
 *
 * prom-client hashes the label set on every `inc` and `observe`, bound children included (~2.7 µs
 * for a counter and a histogram per request here), and loading it adds ~20 ms to start-up. Here a
 * label set is resolved once to a series object that later calls only add to; prom-client is loaded
 * and its registry built on the first scrape, with every family registered as a metric whose values
 * have the shape prom-client's own Counter, Gauge and Histogram give, so its registry writes the
 * exposition exactly as if it had counted (packages/runtime/test/metrics.test.ts compares the two).
 */

type LabelValues<L extends string> = Readonly<Record<L, string | number>>;
type Labels = Record<string, string | number>;

/** One value of a metric, as prom-client's registry reads it. */
interface ExportedValue {
  value: number;
  labels: Labels;
  metricName?: string;
  sharedLabels?: Labels;
  exemplar?: null;
}

interface ExportedMetric {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  values: ExportedValue[];
  aggregator: "sum";
}

/** What prom-client's registry needs of a metric. */
interface RegistrableMetric {
  readonly name: string;
  get(): Promise<ExportedMetric>;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface FamilyConfig<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

abstract class Family<L extends string, S> implements RegistrableMetric {
  readonly name: string;
  readonly help: string;
  protected readonly labelNames: readonly L[];
  protected readonly series = new Map<string, S>();

  constructor(config: FamilyConfig<L>) {
    if (!METRIC_NAME.test(config.name)) throw new Error(`invalid metric name ${JSON.stringify(config.name)}`);
    const labelNames = config.labelNames ?? [];
    const bad = labelNames.find((label) => !LABEL_NAME.test(label));
    if (bad !== undefined) throw new Error(`metric ${config.name}: invalid label name ${JSON.stringify(bad)}`);
    this.name = config.name;
    this.help = config.help;
    this.labelNames = labelNames;
  }

  protected abstract create(labels: Labels): S;
  abstract get(): Promise<ExportedMetric>;

  private key(values: LabelValues<L>): string {
    let key = "";
    for (const name of this.labelNames) key += `${values[name]}\u0000`;
    return key;
  }

  /** The series for these label values, created on first use: keep it to skip this lookup later. */
  labels(values: LabelValues<L>): S {
    const key = this.key(values);
    let series = this.series.get(key);
    if (!series) {
      const labels: Labels = {};
      for (const name of this.labelNames) labels[name] = values[name];
      series = this.create(labels);
      this.series.set(key, series);
    }
    return series;
  }

  /** Drops a series (a label value that no longer exists, such as a vanished address). */
  remove(values: LabelValues<L>): void {
    this.series.delete(this.key(values));
  }

  /** Back to no series; a family without labels keeps its one series, at zero (as prom-client shows it). */
  reset(): void {
    this.series.clear();
    if (this.labelNames.length === 0) this.series.set("", this.create({}));
  }
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Labels) {}

  inc(amount = 1): void {
    if (!(amount >= 0)) throw new RangeError(`a counter only goes up; got ${amount}`);
    this.value += amount;
  }
}

export class CounterFamily<L extends string> extends Family<L, CounterSeries> {
  constructor(
    config: FamilyConfig<L> & {
      /** Sets the values just before each scrape (counts kept elsewhere). */
      collect?: (family: CounterFamily<L>) => void;
    },
  ) {
    super(config);
    this.collect = config.collect;
    this.reset();
  }

  private readonly collect?: (family: CounterFamily<L>) => void;

  protected create(labels: Labels): CounterSeries {
    return new CounterSeries(labels);
  }

  inc(values: LabelValues<L>, amount = 1): void {
    this.labels(values).inc(amount);
  }

  async get(): Promise<ExportedMetric> {
    this.collect?.(this);
    return {
      help: this.help,
      name: this.name,
      type: "counter",
      values: [...this.series.values()].map(({ value, labels }) => ({ value, labels })),
      aggregator: "sum",
    };
  }
}

export class GaugeSeries {
  value = 0;
  constructor(readonly labels: Labels) {}
}

export class GaugeFamily<L extends string> extends Family<L, GaugeSeries> {
  constructor(
    config: FamilyConfig<L> & {
      /** Sets the values just before each scrape. */
      collect: (family: GaugeFamily<L>) => void;
    },
  ) {
    super(config);
    this.collect = config.collect;
    this.reset();
  }

  private readonly collect: (family: GaugeFamily<L>) => void;

  protected create(labels: Labels): GaugeSeries {
    return new GaugeSeries(labels);
  }

  set(values: LabelValues<L>, value: number): void {
    this.labels(values).value = value;
  }

  async get(): Promise<ExportedMetric> {
    this.collect(this);
    return {
      help: this.help,
      name: this.name,
      type: "gauge",
      values: [...this.series.values()].map(({ value, labels }) => ({ value, labels })),
      aggregator: "sum",
    };
  }
}

export class HistogramSeries {
  /** Observations per bucket, not cumulative; past the last bound they count only in `count`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`a histogram takes finite numbers; got ${value}`);
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > (bounds[index] as number)) index++;
    if (index < bounds.length) this.counts[index] = (this.counts[index] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

export class HistogramFamily<L extends string> extends Family<L, HistogramSeries> {
  private readonly bounds: readonly number[];

  constructor(config: FamilyConfig<L> & { buckets: readonly number[] }) {
    if ((config.labelNames as readonly string[] | undefined)?.includes("le")) {
      throw new Error(`metric ${config.name}: le is a reserved label name`);
    }
    const sorted = config.buckets.every((bound, i) => i === 0 || bound > (config.buckets[i - 1] as number));
    if (config.buckets.length === 0 || !sorted) {
      throw new Error(`metric ${config.name}: buckets must be increasing and at least one`);
    }
    super(config);
    this.bounds = [...config.buckets];
    this.reset();
  }

  protected create(labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }

  observe(values: LabelValues<L>, value: number): void {
    this.labels(values).observe(value);
  }

  /** The values as prom-client's Histogram hands them to its registry (cumulative buckets, then sum and count). */
  async getForPromString(): Promise<ExportedMetric> {
    const values: ExportedValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const series of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.counts[i] as number;
        values.push({
          labels: { le: this.bounds[i] as number },
          sharedLabels: series.labels,
          value: cumulative,
          metricName: bucketName,
          exemplar: null,
        });
      }
      values.push(
        { labels: { le: "+Inf" }, sharedLabels: series.labels, value: series.count, metricName: bucketName },
        { labels: {}, sharedLabels: series.labels, value: series.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: series.labels, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: "histogram", values, aggregator: "sum" };
  }

  async get(): Promise<ExportedMetric> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels },
    }));
    return data;
  }
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

export interface MetricsOptions {
  /** prom-client's process and runtime metrics (CPU, memory, event loop, GC), from the first scrape on. */
  processMetrics?: boolean;
}

/** A registry per app (not a global one), so tests can build many apps side by side. */
export class Metrics {
  private readonly families: RegistrableMetric[] = [];
  private built?: Promise<Registry>;
  private registryNow?: Registry;

  constructor(
    readonly service: string,
    private readonly options: MetricsOptions = {},
  ) {}

  counter<L extends string = never>(config: ConstructorParameters<typeof CounterFamily<L>>[0]): CounterFamily<L> {
    return this.add(new CounterFamily<L>(config));
  }

  gauge<L extends string = never>(config: ConstructorParameters<typeof GaugeFamily<L>>[0]): GaugeFamily<L> {
    return this.add(new GaugeFamily<L>(config));
  }

  histogram<L extends string = never>(config: ConstructorParameters<typeof HistogramFamily<L>>[0]): HistogramFamily<L> {
    return this.add(new HistogramFamily<L>(config));
  }

  private add<M extends RegistrableMetric>(family: M): M {
    if (this.families.some((known) => known.name === family.name)) {
      throw new Error(`a metric named ${family.name} is already registered`);
    }
    this.families.push(family);
    // biome-ignore lint/suspicious/noExplicitAny: prom-client's registry takes any object with a name and get()
    this.registryNow?.registerMetric(family as any);
    return family;
  }

  /** Whether prom-client has been loaded (by a scrape); start-up leaves it unloaded. */
  get loaded(): boolean {
    return this.registryNow !== undefined;
  }

  /** prom-client's registry holding every metric; the first call loads prom-client and builds it. */
  registry(): Promise<Registry> {
    this.built ??= import("prom-client").then((prom) => {
      const registry = new prom.Registry();
      registry.setDefaultLabels({ service: this.service });
      if (this.options.processMetrics ?? true) {
        prom.collectDefaultMetrics({ register: registry });
        for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(name);
      }
      // biome-ignore lint/suspicious/noExplicitAny: prom-client's registry takes any object with a name and get()
      for (const family of this.families) registry.registerMetric(family as any);
      this.registryNow = registry;
      return registry;
    });
    return this.built;
  }

  /** The Prometheus text exposition and its content type. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    const registry = await this.registry();
    return { contentType: registry.contentType, text: await registry.metrics() };
  }
}

/** Upper bounds of the request and upstream duration histograms, in seconds. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Route label for requests that matched no route, so unknown paths cannot blow up cardinality. */
export const UNMATCHED_ROUTE = "unmatched";

/** The series one (method, route) writes to: its duration histogram and a request counter per status. */
export class RouteSeries {
  private readonly byStatus = new Map<number, CounterSeries>();

  constructor(
    private readonly requests: CounterFamily<"method" | "route" | "status">,
    private readonly duration: HistogramSeries,
    readonly method: string,
    readonly route: string,
  ) {}

  record(status: number, seconds: number): void {
    let counter = this.byStatus.get(status);
    if (!counter) {
      counter = this.requests.labels({ method: this.method, route: this.route, status });
      this.byStatus.set(status, counter);
    }
    counter.inc();
    this.duration.observe(seconds);
  }
}

/** Per-route request counts and latency histograms; `route(method, path)` pre-binds a label set. */
export class HttpMetrics {
  private readonly requests: CounterFamily<"method" | "route" | "status">;
  private readonly duration: HistogramFamily<"method" | "route">;
  private readonly routes = new Map<string, RouteSeries>();

  constructor(readonly metrics: Metrics) {
    this.requests = metrics.counter({
      name: "http_requests_total",
      help: "HTTP requests served, by method, route and status.",
      labelNames: ["method", "route", "status"] as const,
    });
    this.duration = metrics.histogram({
      name: "http_request_duration_seconds",
      help: "Time from request start to response, by method and route.",
      labelNames: ["method", "route"] as const,
      buckets: DURATION_BUCKETS,
    });
  }

  route(method: string, route: string): RouteSeries {
    const key = `${method} ${route}`;
    let series = this.routes.get(key);
    if (!series) {
      series = new RouteSeries(this.requests, this.duration.labels({ method, route }), method, route);
      this.routes.set(key, series);
    }
    return series;
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    this.route(method, route).record(status, seconds);
  }
}

export function createHttpMetrics(service: string, options: MetricsOptions = {}): HttpMetrics {
  return new HttpMetrics(new Metrics(service, options));
}
