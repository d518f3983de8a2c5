import { describe, expect, test } from "bun:test";
import { computeGoals, computeRatios } from "../../bench/goals";
import { parseDurationMs, parseWrk } from "../../bench/load";
import { renderReport } from "../../bench/report";
import type { BenchResults } from "../../bench/results";
import { type Args, parseArgs } from "../../bench/run";
import { parseStat } from "../../bench/servers";
import { evaluateGoal, median, pairedRatios, summarize } from "../../bench/stats";
import { barChart, escapeXml } from "../../bench/svg";
import type { RoundFigure, ThroughputResult } from "../../bench/throughput";
import { TRIED } from "../../bench/tried";

const WRK_OUTPUT = `Running 8s test @ http://127.0.0.1:40001/v1/timestamp
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.31ms    1.02ms  41.20ms   91.23%
    Req/Sec    21.95k     1.10k   23.40k    77.50%
  Latency Distribution
     50%    2.10ms
     75%    2.48ms
     90%    3.02ms
     99%  850.00us
  174712 requests in 8.01s, 26.32MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 5
Requests/sec:  21811.74
Transfer/sec:      3.29MB
`;

describe("wrk output", () => {
  test.each([
    ["850.00us", 0.85],
    ["2.10ms", 2.1],
    ["1.5s", 1500],
    ["2m", 120_000],
  ])("duration %s → %d ms", (text, ms) => {
    expect(parseDurationMs(text)).toBeCloseTo(ms, 6);
  });

  test("parses the summary, percentiles and errors", () => {
    const r = parseWrk(WRK_OUTPUT);
    expect(r).toMatchObject({ requests: 174712, requestsPerSec: 21811.74, non2xx: 5, socketErrors: 6, errors: 11 });
    expect(r.durationS).toBeCloseTo(8.01, 6);
    expect(r.latencyAvgMs).toBeCloseTo(2.31, 6);
    expect(r.p50Ms).toBeCloseTo(2.1, 6);
    expect(r.p90Ms).toBeCloseTo(3.02, 6);
    expect(r.p99Ms).toBeCloseTo(0.85, 6);
  });

  test("no error lines means zero errors", () => {
    const clean = WRK_OUTPUT.replace(/ {2}Socket errors.*\n/, "").replace(/ {2}Non-2xx.*\n/, "");
    expect(parseWrk(clean).errors).toBe(0);
  });

  test.each([
    ["empty output", ""],
    ["no latency distribution", WRK_OUTPUT.replace(/ {5}99%.*\n/, "")],
    ["bad unit", WRK_OUTPUT.replace("2.31ms", "2.31xs")],
  ])("rejects %s", (_name, text) => {
    expect(() => parseWrk(text)).toThrow();
  });
});

describe("summaries and ratios", () => {
  test.each([
    [[3], 3],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
  ])("median of %p is %d", (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  test("summarize drops non-finite values from median/min/max but keeps them in values", () => {
    expect(summarize([2, Number.NaN, 9, 4])).toEqual({
      median: 4,
      min: 2,
      max: 9,
      n: 3,
      values: [2, Number.NaN, 9, 4],
    });
    expect(summarize([]).n).toBe(0);
    expect(Number.isNaN(summarize([]).median)).toBe(true);
  });

  test.each([
    [
      [10, 20, 30],
      [5, 10, 15],
      [2, 2, 2],
    ],
    [[10, 20], [5, 0, 1], [2]],
    [[1, 2, 3], [1], [1]],
  ])("pairedRatios(%p, %p) = %p", (a, b, expected) => {
    expect(pairedRatios(a, b)).toEqual(expected);
  });
});

describe("goals", () => {
  test.each([
    [">=", 1.0, 0.95, "met", 0.0526],
    [">=", 0.9, 0.95, "missed", -0.0526],
    ["<=", 60, 80, "met", 0.25],
    ["<=", 100, 80, "missed", -0.25],
    ["<=", 80, 80, "met", 0],
  ] as const)("%s: %d against %d is %s with margin %d", (comparison, actual, target, status, margin) => {
    const r = evaluateGoal({ id: "g", description: "", actual, comparison, target, unit: "" });
    expect(r.status).toBe(status);
    expect(r.margin ?? Number.NaN).toBeCloseTo(margin, 3);
  });

  test("a missing figure is 'not measured', not a miss", () => {
    const r = evaluateGoal({ id: "g", description: "", actual: null, comparison: ">=", target: 1, unit: "" });
    expect(r).toMatchObject({ status: "not measured", margin: null });
  });

  const round = (requestsPerSec: number, cpuUsPerRequest: number, p99Ms = 5, peakRssBytes = 30 * 2 ** 20) =>
    ({ requestsPerSec, cpuUsPerRequest, p99Ms, peakRssBytes }) as RoundFigure;
  const target = (id: string, rounds: RoundFigure[]) => {
    const s = (k: keyof RoundFigure) => summarize(rounds.map((r) => Number(r[k])));
    return {
      id,
      label: id,
      path: "/",
      rounds,
      requestsPerSec: s("requestsPerSec"),
      p99Ms: s("p99Ms"),
      cpuUsPerRequest: s("cpuUsPerRequest"),
      peakRssMiB: summarize(rounds.map((r) => r.peakRssBytes / 2 ** 20)),
      errors: 0,
    };
  };
  const throughput = {
    targets: {
      "raw-bun": target("raw-bun", [round(100, 10), round(50, 10), round(80, 10)]),
      "service1-info": target("service1-info", [round(96, 20), round(40, 22), round(80, 21)]),
      express: target("express", [round(10, 150), round(10, 150), round(10, 150)]),
      fastify: target("fastify", [round(30, 40), round(30, 44), round(30, 42)]),
      "fastify-logged": target("fastify-logged", [round(20, 80), round(20, 66), round(20, 84)]),
      "two-hop": target("two-hop", [
        round(40, 50, 12, 40 * 2 ** 20),
        round(20, 50, 9, 48 * 2 ** 20),
        round(20, 50, 11),
      ]),
    },
    skipped: { flask: "apt-get is unavailable" },
  } as unknown as ThroughputResult;

  test("ratios are paired per round, and goals read them", () => {
    const base = { throughput, notMeasured: {} } as unknown as Omit<BenchResults, "goals">;
    const ratios = computeRatios(base);
    expect(ratios["service1/raw throughput"]?.values).toEqual([0.96, 0.8, 1]);
    expect(ratios["service1/raw throughput"]?.median).toBe(0.96);
    const goals = Object.fromEntries(computeGoals({ ...base, ratios }).map((g) => [g.id, g]));
    expect(goals["service1-cpu"]).toMatchObject({ status: "missed", actual: 2.1 });
    expect(goals["two-hop-cpu"]).toMatchObject({ status: "missed", actual: 5 });
    expect(goals["two-hop-vs-raw"]).toMatchObject({ status: "met", actual: 0.4 });
    // Peak RSS is paired per round too: 40/30, 48/30 and 30/30 MiB.
    expect(goals["service2-rss"]).toMatchObject({ status: "met", actual: 4 / 3 });
    expect(goals["service1-rss"]).toMatchObject({ status: "met", actual: 1 });
    // The fair peers: Fastify with its logging, an id and a counter against service1 and bare Fastify.
    expect(ratios["fastify-logged/service1 cpu"]?.values).toEqual([4, 3, 4]);
    expect(ratios["fastify-logged/fastify cpu"]?.values).toEqual([2, 1.5, 2]);
    expect(ratios["hono-logged/service1 cpu"]).toBeUndefined();
    expect(goals["two-hop-p99"]).toMatchObject({ status: "missed", actual: 11 });
    expect(goals["service1-vs-express"]).toMatchObject({ status: "met", actual: 8 });
    expect(goals["service1-vs-flask"]).toMatchObject({ status: "not measured", note: "apt-get is unavailable" });
    expect(goals["deploy-up"]?.status).toBe("not measured");
    expect(goals["service1-cold-start"]?.status).toBe("not measured");
    expect(goals["service2-image-size"]?.status).toBe("not measured");
  });

  test("the report lists each missed goal with its measured reason and what was tried", () => {
    const base = { throughput, notMeasured: {} } as unknown as Omit<BenchResults, "goals">;
    const ratios = computeRatios(base);
    const goals = computeGoals({ ...base, ratios });
    const machine = { cores: 2, model: "m", kernel: "k", bun: "1", node: null, docker: null, date: "d", hostname: "h" };
    // The goals come from the rounds above; the tables need no figures for this.
    const results = { ...base, throughput: undefined, ratios, goals, machine, mode: "full" };
    const report = renderReport(results as unknown as BenchResults, []);
    const section =
      report.split("### Missed here: the measured reason, and what was tried")[1]?.split("\n## ")[0] ?? "";
    const missed = goals.filter((g) => g.status === "missed");
    expect(missed.map((g) => g.id)).toEqual(["service1-cpu", "two-hop-cpu", "two-hop-p99"]);
    for (const g of missed) {
      const line = section.split("\n").find((l) => l.startsWith(`- **${g.description}**`)) ?? "";
      expect(line).toContain(g.note ?? "");
      expect(line).toContain(TRIED[g.id] ?? "");
    }
    expect(section).toContain(TRIED["two-hop-p99"] as string);
    // A goal that is met is not listed.
    expect(section).not.toContain("service1 warm peak RSS");
  });

  test("every goal has what was tried, but those met in every full run on this machine so far", () => {
    const base = { throughput, notMeasured: {} } as unknown as Omit<BenchResults, "goals">;
    const ids = computeGoals({ ...base, ratios: computeRatios(base) }).map((g) => g.id);
    const metInEveryRun = ["two-hop-cpu", "service1-rss", "two-hop-vs-raw", "service1-vs-express"];
    const withoutEntry = ids.filter((id) => TRIED[id] === undefined && !metInEveryRun.includes(id));
    expect(withoutEntry).toEqual([
      "service1-image-size",
      "service2-image-size",
      "compose-healthy",
      "deploy-rollback",
      "deploy-dry-run",
    ]);
  });
});

describe("cold start goals", () => {
  test("each binary against 60 ms, with what --bytecode buys and costs in the note", () => {
    const coldStart = {
      measuredAt: "",
      rounds: 3,
      container: null,
      binaries: {
        "raw-bun": { label: "raw", ms: summarize([20, 22, 25]), bytes: 100e6 },
        service1: { label: "s1", ms: summarize([50, 55, 70]), bytes: 110e6 },
        "service1-bytecode": { label: "s1 bc", ms: summarize([30, 31, 40]), bytes: 114.5e6 },
        service2: { label: "s2", ms: summarize([61, 64, 90]), bytes: 110.2e6 },
      },
    };
    const base = { coldStart, notMeasured: {}, ratios: {} } as unknown as Omit<BenchResults, "goals">;
    const goals = Object.fromEntries(computeGoals(base).map((g) => [g.id, g]));
    expect(goals["service1-cold-start"]).toMatchObject({ status: "met", actual: 55 });
    expect(goals["service1-cold-start"]?.note).toContain("--bytecode 31.0 ms for 4.5 MB more binary");
    expect(goals["service2-cold-start"]).toMatchObject({ status: "missed", actual: 64 });
    expect(goals["service2-cold-start"]?.note).not.toContain("--bytecode");
  });
});

describe("bar chart SVG", () => {
  const cases = [
    {
      name: "two bars",
      bars: [
        { label: "raw", value: 100 },
        { label: "service1", value: 50, min: 40, max: 60, accent: true },
      ],
    },
    { name: "escaped labels", bars: [{ label: 'a < b & "c"', value: 1 }] },
    {
      name: "a missing figure",
      bars: [
        { label: "flask", value: Number.NaN },
        { label: "raw", value: 3 },
      ],
    },
  ];

  test.each(cases)("$name: well-formed XML with one bar per label", ({ bars }) => {
    const svg = barChart({ title: "T & t", unit: "req/s", bars, reference: { value: 80, label: "goal" } });
    expect(wellFormed(svg)).toBe(true);
    expect(svg).toContain("<title>T &amp; t</title>");
    const rects = [
      ...svg.matchAll(/<rect class="bar" data-label="([^"]*)" data-value="([^"]*)"[^>]*width="([\d.]+)"/g),
    ];
    expect(rects.map((m) => m[1])).toEqual(bars.map((b) => escapeXml(b.label)));
    for (const [i, m] of rects.entries()) {
      const value = bars[i]?.value ?? Number.NaN;
      expect(m[2]).toBe(Number.isFinite(value) ? String(value) : "");
      if (!Number.isFinite(value)) expect(Number(m[3])).toBe(0);
    }
  });

  test("bar widths are proportional to values", () => {
    const svg = barChart({
      title: "t",
      unit: "",
      bars: [
        { label: "a", value: 100 },
        { label: "b", value: 25 },
      ],
    });
    const widths = [...svg.matchAll(/class="bar"[^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect((widths[1] ?? 0) / (widths[0] ?? 1)).toBeCloseTo(0.25, 2);
  });
});

describe("helpers", () => {
  test("parseStat reads ppid and utime+stime even when the name holds spaces and parens", () => {
    const stat = "1234 (my (odd) name) S 99 1234 1234 0 -1 4194560 500 0 0 0 150 37 0 0 20 0 1 0 100 0 0";
    expect(parseStat(stat)).toEqual({ ppid: 99, ticks: 187 });
  });

  const all: Args["only"] = ["throughput", "coldstart", "images", "deploy"];
  const defaults: Args = { quick: false, build: true, reportOnly: false, only: all, targets: [], rounds: null };
  const cases: [string[], ReturnType<typeof parseArgs>][] = [
    [[], defaults],
    [["--quick", "--only=deploy,images"], { ...defaults, quick: true, only: ["deploy", "images"] }],
    [["--no-build"], { ...defaults, build: false }],
    [
      ["--targets=raw-bun,service1-info", "--rounds=7"],
      { ...defaults, targets: ["raw-bun", "service1-info"], rounds: 7 },
    ],
  ];
  test.each(cases)("parseArgs(%p)", (argv, expected) => {
    expect(parseArgs(argv)).toEqual(expected);
  });

  test.each([
    [["--only=nope"]],
    [["--only="]],
    [["--fast"]],
    [["--targets=nginx"]],
    [["--rounds=0"]],
    [["--rounds=two"]],
  ])("parseArgs rejects %p", (argv) => {
    expect(() => parseArgs(argv)).toThrow();
  });
});

/** Minimal well-formedness check: balanced tags, quoted attributes, no raw & or < in text. */
function wellFormed(xml: string): boolean {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(text)) return false;
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) return false;
    const [, close, name, , selfClose] = m;
    if (close) {
      if (stack.pop() !== name) return false;
    } else if (!selfClose) stack.push(name as string);
    i = tag.lastIndex;
  }
  return stack.length === 0;
}
