/**
 * `bun run bench [--quick] [--only=throughput,coldstart,images,deploy]`: measures, then writes
 * bench/results/latest.json, bench/REPORT.md and bench/charts/*.svg.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileWithBytecode, runColdStart } from "./coldstart";
import { runDeploys, tearDown } from "./deploys";
import { dockerAnswers } from "./docker";
import { computeGoals, computeRatios } from "./goals";
import { type BenchImages, measureImageSizes, prepareImages, removeBenchTags } from "./images";
import { machineInfo } from "./machine";
import { message, note, step } from "./progress";
import { writeReport } from "./report";
import { type BenchResults, SECTIONS, type Section } from "./results";
import { stopAllServers } from "./servers";
import { compiledPeers, ROOT, runThroughput, TARGET_IDS, targetSpecs } from "./throughput";

const BENCH = join(ROOT, "bench");
const LATEST = join(BENCH, "results/latest.json");

export interface Args {
  quick: boolean;
  only: Section[];
  build: boolean;
  /** Re-render REPORT.md and the charts from latest.json without measuring. */
  reportOnly: boolean;
  /** Throughput targets to run (ids from targetSpecs); all when empty. */
  targets: string[];
  /** Throughput rounds; the mode's default when null. */
  rounds: number | null;
}

export function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: [...SECTIONS], build: true, reportOnly: false, targets: [], rounds: null };
  for (const arg of argv) {
    if (arg === "--quick") args.quick = true;
    else if (arg === "--no-build") args.build = false;
    else if (arg === "--report-only") args.reportOnly = true;
    else if (arg.startsWith("--only=")) {
      const wanted = arg.slice("--only=".length).split(",").filter(Boolean);
      const bad = wanted.filter((s) => !(SECTIONS as readonly string[]).includes(s));
      if (bad.length || wanted.length === 0) {
        throw new Error(`--only: unknown section ${bad.join(", ") || "(none)"}; use ${SECTIONS.join(", ")}`);
      }
      args.only = wanted as Section[];
    } else if (arg.startsWith("--targets=")) {
      const wanted = arg.slice("--targets=".length).split(",").filter(Boolean);
      const bad = wanted.filter((id) => !TARGET_IDS.includes(id));
      if (bad.length || wanted.length === 0) {
        throw new Error(`--targets: unknown target ${bad.join(", ") || "(none)"}; use ${TARGET_IDS.join(", ")}`);
      }
      args.targets = wanted;
    } else if (arg.startsWith("--rounds=")) {
      const rounds = Number(arg.slice("--rounds=".length));
      if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
        throw new Error(`--rounds: expected an integer from 1 to 50; got ${JSON.stringify(arg.slice(9))}`);
      }
      args.rounds = rounds;
    } else if (arg === "--help" || arg === "-h") {
      throw new Error(
        "usage: bun run bench [--quick] [--no-build] [--only=throughput,coldstart,images,deploy] [--targets=raw-bun,service1-info,…] [--rounds=N] [--report-only]",
      );
    } else {
      throw new Error(
        `unknown flag ${arg}; use --quick, --no-build, --only=<${SECTIONS.join("|")}>, --targets=<ids>, --rounds=N, --report-only`,
      );
    }
  }
  return args;
}

function previousResults(): Partial<BenchResults> {
  if (!existsSync(LATEST)) return {};
  try {
    return JSON.parse(readFileSync(LATEST, "utf8")) as BenchResults;
  } catch {
    return {};
  }
}

async function main(): Promise<void> {
  const args = parseArgs(Bun.argv.slice(2));
  if (args.reportOnly) {
    const prev = previousResults() as BenchResults;
    if (!prev.machine) throw new Error(`no results to report: run \`bun run bench\` first (${LATEST})`);
    const ratios = computeRatios(prev);
    const final: BenchResults = { ...prev, ratios, goals: computeGoals({ ...prev, ratios }) };
    writeReport(final, BENCH);
    process.stderr.write("wrote bench/REPORT.md and bench/charts/ from bench/results/latest.json\n");
    return;
  }
  const runId = String(process.pid);
  const mode = args.quick ? "quick" : "full";
  const started = performance.now();
  const taskset = Bun.which("taskset") !== null;
  const placement = taskset ? { server: "0", client: "1" } : { server: null, client: null };
  if (!taskset) note("no taskset: servers and wrk are not pinned");
  if (!Bun.which("wrk")) throw new Error("wrk is not installed (apt-get install wrk)");

  // With --only, sections not run now keep the previous run's figures.
  const prev = previousResults();
  const results: Omit<BenchResults, "goals" | "ratios"> = {
    schema: 1,
    machine: machineInfo(),
    mode,
    sections: { ...(prev.sections ?? {}) },
    notMeasured: {},
    ...(prev.throughput ? { throughput: prev.throughput } : {}),
    ...(prev.coldStart ? { coldStart: prev.coldStart } : {}),
    ...(prev.images ? { images: prev.images } : {}),
    ...(prev.deploy ? { deploy: prev.deploy } : {}),
  };
  for (const s of args.only) {
    delete results.sections[s];
    delete results[
      ({ throughput: "throughput", coldstart: "coldStart", images: "images", deploy: "deploy" } as const)[s]
    ];
  }
  const done = (s: Section) => {
    results.sections[s] = { measuredAt: new Date().toISOString(), mode };
  };
  const failed = (s: Section, error: unknown) => {
    results.notMeasured[s] = message(error);
    note(`${s}: not measured: ${message(error)}`);
  };

  if (args.build) await step("bun run build (dist/service1, dist/service2)", buildDist);
  const bins = await step("compile raw Bun.serve and bare Elysia peers", compiledPeers);

  const docker = args.only.some((s) => s !== "throughput") ? await dockerAnswers() : false;
  let images: BenchImages | null = null;
  let imagesError = "Docker does not answer";
  if (docker && args.only.some((s) => s === "images" || s === "deploy" || s === "coldstart")) {
    try {
      images = await step("build both images from this checkout, tagged for this run", () => prepareImages(runId));
    } catch (error) {
      imagesError = message(error);
    }
  }

  const cleanup = async () => {
    await stopAllServers();
    if (docker) {
      await tearDown(`timekit-bench-${runId}`, join("/tmp", "timekit-bench-none"));
      await removeBenchTags(runId);
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    if (args.only.includes("throughput")) {
      try {
        const specs = targetSpecs(bins).filter((spec) => args.targets.length === 0 || args.targets.includes(spec.id));
        results.throughput = await runThroughput(specs, {
          rounds: args.rounds ?? 3,
          durationS: args.quick ? 3 : 5,
          warmupS: args.quick ? 1 : 2,
          connections: 50,
          placement,
        });
        done("throughput");
      } catch (error) {
        failed("throughput", error);
      }
    }
    if (args.only.includes("coldstart")) {
      try {
        let bytecode: Awaited<ReturnType<typeof compileWithBytecode>> | null = null;
        try {
          bytecode = await step("compile both services with --bytecode (for comparison)", compileWithBytecode);
        } catch (error) {
          note(`--bytecode comparison not measured: ${message(error)}`);
        }
        results.coldStart = await runColdStart({
          bytecode,
          rounds: args.quick ? 3 : 7,
          cpus: placement.server,
          bins,
          image: images?.refs.service1 ?? null,
          imageSkipped: imagesError,
          namePrefix: `timekit-bench-${runId}`,
        });
        done("coldstart");
      } catch (error) {
        failed("coldstart", error);
      }
    }
    if (args.only.includes("images")) {
      if (!images) failed("images", new Error(imagesError));
      else {
        try {
          results.images = await measureImageSizes(images);
          done("images");
        } catch (error) {
          failed("images", error);
        }
      }
    }
    if (args.only.includes("deploy")) {
      if (!images) failed("deploy", new Error(imagesError));
      else {
        try {
          results.deploy = await runDeploys({ images, runId, rounds: args.quick ? 1 : 3 });
          done("deploy");
        } catch (error) {
          failed("deploy", error);
        }
      }
    }
  } finally {
    await step("clean up servers, containers and bench tags", cleanup);
  }

  const ratios = computeRatios(results);
  const final: BenchResults = { ...results, ratios, goals: computeGoals({ ...results, ratios }) };
  mkdirSync(join(BENCH, "results"), { recursive: true });
  writeFileSync(LATEST, `${JSON.stringify(final, null, 2)}\n`);
  writeReport(final, BENCH);
  process.stderr.write(
    `\nwrote bench/results/latest.json, bench/REPORT.md, bench/charts/ in ${((performance.now() - started) / 1000).toFixed(0)}s\n`,
  );
  for (const g of final.goals) {
    const value = g.actual === null ? "—" : g.actual.toFixed(2);
    process.stderr.write(`  ${g.status.padEnd(12)} ${g.description}: ${value} ${g.unit}\n`);
  }
}

async function buildDist(): Promise<void> {
  const proc = Bun.spawn(["bun", "run", "build"], { cwd: ROOT, stdout: "ignore", stderr: "pipe" });
  if ((await proc.exited) !== 0) throw new Error(`bun run build: ${await new Response(proc.stderr).text()}`);
}

if (import.meta.main) {
  main().catch(async (error) => {
    process.stderr.write(`bench: ${message(error)}\n`);
    await stopAllServers();
    process.exit(1);
  });
}
