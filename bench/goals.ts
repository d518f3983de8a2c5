/** Paired ratios and the issue's goals, computed from the raw figures (pure). */
import type { BenchResults } from "./results";
import { evaluateGoal, type Goal, type GoalResult, pairedRatios, type Summary, summarize } from "./stats";
import type { ThroughputResult } from "./throughput";

/** The peers benched bare and doing service1's per-request work (bench/peers/*.mjs). */
const FAIR_PEERS = [
  ["hono", "Hono"],
  ["fastify", "Fastify"],
  ["express", "Express"],
] as const;

/** Above this, `wrk -t1` on one core measures itself rather than the server (environment.md). */
export const WRK_CEILING_RPS = 55_000;

type Metric = "requestsPerSec" | "cpuUsPerRequest" | "p99Ms" | "peakRssBytes";

function series(t: ThroughputResult | undefined, id: string, metric: Metric): number[] {
  return t?.targets[id]?.rounds.map((r) => r[metric]) ?? [];
}

export function ratio(t: ThroughputResult | undefined, a: string, b: string, metric: Metric): Summary {
  return summarize(pairedRatios(series(t, a, metric), series(t, b, metric)));
}

export function computeRatios(r: Pick<BenchResults, "throughput">): BenchResults["ratios"] {
  const t = r.throughput;
  const defs: [string, string, string, Metric, string][] = [
    ["service1/raw throughput", "service1-info", "raw-bun", "requestsPerSec", "service1 (info) ÷ raw Bun.serve, req/s"],
    [
      "service1-warn/raw throughput",
      "service1-warn",
      "raw-bun",
      "requestsPerSec",
      "service1 (warn) ÷ raw Bun.serve, req/s",
    ],
    ["elysia-bare/raw throughput", "elysia-bare", "raw-bun", "requestsPerSec", "bare Elysia ÷ raw Bun.serve, req/s"],
    ["two-hop/raw throughput", "two-hop", "raw-bun", "requestsPerSec", "two-hop /v1/format ÷ raw single hop, req/s"],
    [
      "two-hop/service1 throughput",
      "two-hop",
      "service1-info",
      "requestsPerSec",
      "two-hop ÷ service1 single hop, req/s",
    ],
    ["service1/express throughput", "service1-info", "express", "requestsPerSec", "service1 ÷ Express, req/s"],
    ["service1/fastify throughput", "service1-info", "fastify", "requestsPerSec", "service1 ÷ Fastify, req/s"],
    ["service1/flask throughput", "service1-info", "flask", "requestsPerSec", "service1 ÷ Flask/gunicorn, req/s"],
    ["service1/raw cpu", "service1-info", "raw-bun", "cpuUsPerRequest", "service1 (info) ÷ raw, CPU µs per request"],
    [
      "service1-warn/raw cpu",
      "service1-warn",
      "raw-bun",
      "cpuUsPerRequest",
      "service1 (warn) ÷ raw, CPU µs per request",
    ],
    ["elysia-bare/raw cpu", "elysia-bare", "raw-bun", "cpuUsPerRequest", "bare Elysia ÷ raw, CPU µs per request"],
    ["two-hop/raw cpu", "two-hop", "raw-bun", "cpuUsPerRequest", "two-hop (both processes) ÷ raw, CPU µs per request"],
    ["express/service1 cpu", "express", "service1-info", "cpuUsPerRequest", "Express ÷ service1, CPU µs per request"],
    ["fastify/service1 cpu", "fastify", "service1-info", "cpuUsPerRequest", "Fastify ÷ service1, CPU µs per request"],
    ["flask/service1 cpu", "flask", "service1-info", "cpuUsPerRequest", "Flask ÷ service1, CPU µs per request"],
    ["hono/raw cpu", "hono", "raw-bun", "cpuUsPerRequest", "bare Hono ÷ raw, CPU µs per request"],
    ...FAIR_PEERS.map(([peer, name]): [string, string, string, Metric, string] => [
      `${peer}-logged/service1 cpu`,
      `${peer}-logged`,
      "service1-info",
      "cpuUsPerRequest",
      `${name} with log, id and counter ÷ service1 (info), CPU µs per request`,
    ]),
    ...FAIR_PEERS.map(([peer, name]): [string, string, string, Metric, string] => [
      `${peer}-logged/${peer} cpu`,
      `${peer}-logged`,
      peer,
      "cpuUsPerRequest",
      `${name} with log, id and counter ÷ bare ${name}, CPU µs per request`,
    ]),
    ["service1/raw rss", "service1-info", "raw-bun", "peakRssBytes", "service1 (info) ÷ raw, peak RSS"],
    ["service2/raw rss", "two-hop", "raw-bun", "peakRssBytes", "service2 (two-hop front) ÷ raw, peak RSS"],
  ];
  const out: BenchResults["ratios"] = {};
  for (const [key, a, b, metric, description] of defs) {
    const s = ratio(t, a, b, metric);
    if (s.n > 0) out[key] = { description, ...s };
  }
  return out;
}

const us = (t: ThroughputResult | undefined, id: string) => t?.targets[id]?.cpuUsPerRequest.median ?? Number.NaN;
const med = (s: Summary | undefined): number | null => (s && s.n > 0 ? s.median : null);
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
const signed = (n: number) => (Number.isFinite(n) ? `${n >= 0 ? "+" : "−"}${Math.abs(n).toFixed(1)}` : "n/a");

/** The least-disturbed figure: other work on the machine only ever adds CPU to a round. */
const fastest = (t: ThroughputResult | undefined, id: string) => t?.targets[id]?.cpuUsPerRequest.min ?? Number.NaN;

/** What the CPU per request says about where service1's time goes (raw → Elysia → hooks → log). */
export function costBreakdown(t: ThroughputResult | undefined): string {
  const raw = fastest(t, "raw-bun");
  const bare = fastest(t, "elysia-bare");
  const warn = fastest(t, "service1-warn");
  const info = fastest(t, "service1-info");
  return `CPU per request in each target's fastest round: raw ${f1(raw)} µs, bare Elysia ${f1(bare)} µs (${signed(bare - raw)} framework), service1 at warn ${f1(warn)} µs (${signed(warn - bare)} the fast lane without access lines), at info ${f1(info)} µs (${signed(info - warn)} access log)`;
}

function ceilingNote(t: ThroughputResult | undefined): string {
  const raw = t?.targets["raw-bun"]?.requestsPerSec.median ?? 0;
  return raw >= WRK_CEILING_RPS
    ? `; raw Bun.serve reached ${Math.round(raw)} req/s, near wrk -t1's own ceiling, so throughput ratios against it understate the gap and CPU per request is the fairer figure`
    : "";
}

export function computeGoals(r: Omit<BenchResults, "goals">): GoalResult[] {
  const t = r.throughput;
  const ratios = r.ratios;
  const thr = (key: string) => med(ratios[key]);
  const goals: Goal[] = [];
  const breakdown = costBreakdown(t);
  const tNote = r.notMeasured.throughput;
  goals.push({
    id: "service1-cpu",
    description: "service1 CPU per request ≤ 1.3× raw Bun.serve (LOG_LEVEL=info, access log and metrics on)",
    actual: thr("service1/raw cpu"),
    comparison: "<=",
    target: 1.3,
    unit: "×",
    note: tNote ?? breakdown,
  });
  goals.push({
    id: "two-hop-cpu",
    description: "two-hop /v1/format CPU per request (both processes) ≤ 2.5× raw single hop",
    actual: thr("two-hop/raw cpu"),
    comparison: "<=",
    target: 2.5,
    unit: "×",
    note:
      tNote ??
      `two-hop ${f1(us(t, "two-hop"))} µs against raw ${f1(us(t, "raw-bun"))} µs and service1 alone ${f1(us(t, "service1-info"))} µs: service2 serves one request and makes one to service1 (a server and a client exchange), service1 serves one, each writes an access line`,
  });
  for (const [service, key, target] of [
    ["service1", "service1/raw rss", "service1-info"],
    ["service2", "service2/raw rss", "two-hop"],
  ] as const) {
    goals.push({
      id: `${service}-rss`,
      description: `${service} warm peak RSS under the bench load ≤ 1.5× raw Bun.serve's`,
      actual: thr(key),
      comparison: "<=",
      target: 1.5,
      unit: "×",
      note:
        tNote ??
        `${service} ${f1(t?.targets[target]?.peakRssMiB.median ?? Number.NaN)} MiB, raw Bun.serve ${f1(t?.targets["raw-bun"]?.peakRssMiB.median ?? Number.NaN)} MiB in the same rounds`,
    });
  }
  goals.push({
    id: "two-hop-vs-raw",
    description: "two-hop /v1/format throughput ≥ 0.30× raw single hop",
    actual: thr("two-hop/raw throughput"),
    comparison: ">=",
    target: 0.3,
    unit: "×",
    note:
      tNote ??
      `two processes share one core; two-hop CPU per request ${f1(us(t, "two-hop"))} µs vs service1 ${f1(us(t, "service1-info"))} µs: each request is two HTTP exchanges in service2 (server + fetch client) plus one in service1, with two access-log lines`,
  });
  goals.push({
    id: "two-hop-p99",
    description: "two-hop p99 ≤ 10 ms at 50 connections",
    actual: med(t?.targets["two-hop"]?.p99Ms),
    comparison: "<=",
    target: 10,
    unit: "ms",
    ...(tNote ? { note: tNote } : {}),
  });
  for (const [peer, target, name] of [
    ["express", 7, "Express"],
    ["fastify", 2, "Fastify"],
    ["flask", 15, "Flask"],
  ] as const) {
    const cpu = med(ratios[`${peer}/service1 cpu`]);
    const skipped = t?.skipped[peer];
    goals.push({
      id: `service1-vs-${peer}`,
      description: `service1 throughput ≥ ${target}× ${name}`,
      actual: thr(`service1/${peer} throughput`),
      comparison: ">=",
      target,
      unit: "×",
      note:
        skipped ??
        tNote ??
        `by CPU per request ${name} costs ${cpu === null ? "n/a" : cpu.toFixed(2)}× service1${ceilingNote(t)}`,
    });
  }
  const c = r.coldStart;
  const rawCold = c?.binaries["raw-bun"]?.ms.median;
  for (const service of ["service1", "service2"] as const) {
    const plain = c?.binaries[service];
    const bytecode = c?.binaries[`${service}-bytecode`];
    const extra = plain?.bytes !== undefined && bytecode?.bytes !== undefined ? bytecode.bytes - plain.bytes : null;
    const bytecodeNote =
      bytecode && extra !== null
        ? `; compiled with --bytecode ${f1(bytecode.ms.median)} ms for ${(extra / 1e6).toFixed(1)} MB more binary`
        : "";
    goals.push({
      id: `${service}-cold-start`,
      description: `${service} binary cold start (spawn → first 200) ≤ 60 ms`,
      actual: med(plain?.ms),
      comparison: "<=",
      target: 60,
      unit: "ms",
      note:
        r.notMeasured.coldstart ??
        `raw Bun.serve compiled: ${rawCold === undefined ? "n/a" : rawCold.toFixed(1)} ms in the same rounds${bytecodeNote}`,
    });
  }
  const img = r.images;
  for (const service of ["service1", "service2"] as const) {
    const image = img?.images[service];
    goals.push({
      id: `${service}-image-size`,
      description: `${service} image ≤ Bun binary + 8 MB`,
      actual: image ? image.bytes / 1e6 : null,
      comparison: "<=",
      target: img ? img.bunBinaryBytes / 1e6 + 8 : Number.NaN,
      unit: "MB",
      ...(r.notMeasured.images ? { note: r.notMeasured.images } : {}),
    });
  }
  const d = r.deploy?.steps;
  const dNote = (id: keyof NonNullable<typeof d>) => d?.[id]?.notMeasured ?? r.notMeasured.deploy;
  const upOk = d ? d.up.seconds.n > 0 : null;
  goals.push({
    id: "compose-healthy",
    description: "compose up reaches healthy (deploy exit 0)",
    actual: upOk === null ? null : upOk ? 1 : 0,
    comparison: ">=",
    target: 1,
    unit: "",
    ...(dNote("up") ? { note: dNote("up") } : {}),
  });
  for (const [id, target, text] of [
    ["up", 5, "deploy with images present ≤ 5 s"],
    ["unchanged", 2, "deploy with nothing changed ≤ 2 s"],
    ["unchanged-implicit", 2, "deploy with nothing changed, no version flags ≤ 2 s"],
    ["status", 1, "status ≤ 1 s"],
    ["upgrade", 5, "upgrade of service1 ≤ 5 s"],
    ["rollback", 10, "rollback < 10 s"],
    ["dry-run", 0.3, "dry-run < 300 ms"],
  ] as const) {
    const cli = med(d?.cli?.seconds);
    const note =
      dNote(id) ??
      slowestPhases(d?.[id]?.phases) ??
      (cli === null ? undefined : `the CLI alone (--version) takes ${cli.toFixed(2)} s`);
    goals.push({
      id: `deploy-${id}`,
      description: text,
      actual: med(d?.[id]?.seconds),
      comparison: "<=",
      target,
      unit: "s",
      ...(note ? { note } : {}),
    });
  }
  return goals.map(evaluateGoal);
}

/** "slowest steps: service2.edge 3.9 s, …": where a deploy's seconds went, by its own step events. */
function slowestPhases(phases: Record<string, Summary> | undefined): string | undefined {
  if (!phases) return undefined;
  const top = Object.entries(phases)
    .filter(([, v]) => v.n > 0)
    .sort(([, a], [, b]) => b.median - a.median)
    .slice(0, 4)
    .map(([phase, v]) => `${phase} ${v.median.toFixed(1)} s`);
  return top.length > 0 ? `slowest steps (medians): ${top.join(", ")}` : undefined;
}
