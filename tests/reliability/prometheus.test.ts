import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort, ROOMY_UPSTREAM, type ServiceProcess, startService, stopAll } from "../integration/processes";
import { suiteToolsReady } from "../support/suite-tools";
import { recordReliability } from "./record";

const missing = !suiteToolsReady(import.meta.path);
const binary = Bun.which("prometheus");

let service1: ServiceProcess;
let service2: ServiceProcess;
let prometheus: Subprocess | undefined;
let prometheusUrl = "";
const dataDir = mkdtempSync(join(tmpdir(), "timekit-prometheus-"));

async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query: promql })}`);
  const body = (await response.json()) as { status: string; data: { result: never[] } };
  expect(body.status).toBe("success");
  return body.data.result;
}

beforeAll(async () => {
  if (missing) return;
  service1 = await startService("service1");
  service2 = await startService("service2", {
    SERVICE1_URL: service1.url,
    ...ROOMY_UPSTREAM,
  });
  const port = freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  const config = join(dataDir, "prometheus.yml");
  await Bun.write(
    config,
    [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      "scrape_configs:",
      "  - job_name: timekit",
      "    static_configs:",
      `      - targets: ["127.0.0.1:${service1.port}", "127.0.0.1:${service2.port}"]`,
      "",
    ].join("\n"),
  );
  prometheus = Bun.spawn(
    [
      binary as string,
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dataDir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdout: "ignore", stderr: "ignore" },
  );
  for (let i = 0; i < 100; i++) {
    const ready = await fetch(`${prometheusUrl}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await Bun.sleep(100);
  }
  throw new Error("Prometheus did not become ready within 10 s");
}, 20_000);

afterAll(async () => {
  prometheus?.kill();
  await prometheus?.exited;
  if (service1) await stopAll([service1, service2]);
  rmSync(dataDir, { recursive: true, force: true });
});

test.skipIf(missing)(
  "a real Prometheus scrapes both services under load and answers request rate and p99",
  async () => {
    const until = Date.now() + 7000;
    let sent = 0;
    const client = async () => {
      while (Date.now() < until) {
        const response = await fetch(`${service2.url}/v1/format`);
        expect(response.status).toBe(200);
        sent++;
      }
    };
    await Promise.all(Array.from({ length: 4 }, client));
    await Bun.sleep(1500);

    const up = await query('up{job="timekit"}');
    expect(up.map((sample) => sample.value[1])).toEqual(["1", "1"]);

    const rate = await query('sum by (service) (rate(http_requests_total{route="/v1/format"}[10s]))');
    const service2Rate = Number(rate.find((sample) => sample.metric.service === "service2")?.value[1]);
    expect(service2Rate).toBeGreaterThan(0);

    const p99 = await query(
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="service2",route="/v1/format"}[10s])))',
    );
    const seconds = Number(p99[0]?.value[1]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(5);

    const upstream = await query('sum(upstream_requests_total{outcome="ok"})');
    expect(Number(upstream[0]?.value[1])).toBeGreaterThan(0);

    const total = await query('sum(http_requests_total{service="service2",route="/v1/format"})');
    expect(Number(total[0]?.value[1])).toBeGreaterThanOrEqual(sent * 0.5);
    await recordReliability("prometheus", {
      requests: sent,
      scrapedTargetsUp: up.length,
      service2RatePerSecond: Math.round(service2Rate),
      p99Ms: Math.round(seconds * 10000) / 10,
    });
    console.log(
      `prometheus: ${sent} requests, service2 rate ${service2Rate.toFixed(0)}/s, p99 ${(seconds * 1000).toFixed(1)} ms`,
    );

    // The monitoring profile's Grafana dashboard asks the same Prometheus the same kind of questions:
    // every panel query must be valid PromQL, and all but the error ratio (no 5xx here) must have data.
    const dashboard = await Bun.file(
      new URL("../../monitoring/grafana/dashboards/timekit.json", import.meta.url),
    ).json();
    const panels = dashboard.panels as { title: string; targets: { expr: string }[] }[];
    expect(panels.length).toBeGreaterThanOrEqual(5);
    for (const panel of panels) {
      for (const target of panel.targets) {
        const result = await query(target.expr.replaceAll("$__rate_interval", "10s"));
        if (!panel.title.startsWith("Errors")) {
          expect({ panel: panel.title, hasData: result.length > 0 }).toEqual({ panel: panel.title, hasData: true });
        }
      }
    }
  },
  30_000,
);

test.skipIf(missing)("the monitoring profile's Prometheus configuration passes promtool", () => {
  const promtool = Bun.which("promtool");
  expect(promtool).not.toBeNull();
  const file = new URL("../../monitoring/prometheus.yml", import.meta.url).pathname;
  const result = Bun.spawnSync([promtool as string, "check", "config", file], { stdout: "pipe", stderr: "pipe" });
  expect(result.exitCode).toBe(0);
});
