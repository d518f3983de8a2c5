/**
 * The project's test commands (lib/ci/test-groups.ts says which file is in which group):
 *
 *   bun run test         the fast default: unit, the CLI in-process, the services as processes
 *   bun run test:full    everything: the fast default plus the engine, chart, load and release suites
 *   bun scripts/test.ts --list [--full]   the files each lane runs, one per line, and nothing else
 *
 * test:full runs three lanes at once, each a sequence of `bun test` runs: `fast` runs the fast
 * default first (exactly what `bun run test` runs), then the chart suites, the release and
 * workflow suites (CPU and temporary directories only) and the edge suites; `engine` runs the
 * other Docker suites, then the load suites; `deploys` runs the fault-injection suites
 * (lib/ci/test-groups.ts says why).
 * Each lane's lines are prefixed with its name. Extra arguments (for example `-t name`) go to every
 * `bun test`. With --full, the lanes' times come next, then each failed test as `[lane] file > name`
 * (a CI log's tail then says what failed), and last the totals, `N pass` and `N fail`, as `bun test`
 * prints them. Exit code: 0 when every run passed.
 */
import { join } from "node:path";
import { SUITE_TOOLS } from "../lib/ci/suites";
import { HEAVY_GROUPS, type HeavyGroup, type Lane as TestLane, testPlan } from "../lib/ci/test-groups";

const REPO_ROOT = join(import.meta.dir, "..");
/**
 * Every test's and hook's default hang guard. Bun 1.4.4 applies the preload's setDefaultTimeout
 * (tests/setup.ts) to the first test file only; every later file ran under Bun's 5 s default
 * (tests/ci/test-groups.test.ts shows it). `--timeout` reaches every file.
 */
export const TEST_TIMEOUT_MS = 20_000;

interface Lane {
  name: string;
  /** One `bun test` run per entry, one after the other. */
  runs: string[][];
}

function lanes(full: boolean): Lane[] {
  const plan = testPlan(SUITE_TOOLS);
  if (!full) return [{ name: "fast", runs: [plan.fast] }];
  const inLane = (lane: TestLane) =>
    (Object.keys(HEAVY_GROUPS) as HeavyGroup[])
      .filter((group) => HEAVY_GROUPS[group].lane === lane)
      .flatMap((group) => plan.heavy[group]);
  return [
    { name: "fast", runs: [plan.fast, inLane("fast")] },
    { name: "engine", runs: [inLane("engine")] },
    { name: "deploys", runs: [inLane("deploys")] },
  ];
}

interface RunResult {
  exitCode: number;
  pass: number;
  fail: number;
  /** `file > test name` of each `(fail)` line, in the order `bun test` printed them. */
  failed: string[];
}

/** Reads `bun test`'s lines: its totals, and which test of which file failed. */
export function testOutputReader(): { read(line: string): void; result: Omit<RunResult, "exitCode"> } {
  const result: Omit<RunResult, "exitCode"> = { pass: 0, fail: 0, failed: [] };
  let file = "";
  return {
    result,
    read(line) {
      const counted = /^\s*(\d+) (pass|fail)$/.exec(line);
      if (counted?.[2] === "pass") result.pass = Number(counted[1]);
      if (counted?.[2] === "fail") result.fail = Number(counted[1]);
      const header = /^(\S+\.test\.[cm]?[jt]sx?):$/.exec(line);
      if (header?.[1]) file = header[1];
      const failed = /^\(fail\) (.*?)(?: \[[\d.]+m?s\])?$/.exec(line);
      if (failed?.[1]) result.failed.push(file ? `${file} > ${failed[1]}` : failed[1]);
    },
  };
}

/** Runs `bun test` on `files`, copying its lines with `prefix`, and reads its totals. */
async function runTests(files: string[], extra: string[], prefix: string): Promise<RunResult> {
  const child = Bun.spawn(
    ["bun", "test", `--timeout=${TEST_TIMEOUT_MS}`, ...extra, ...files.map((file) => `./${file}`)],
    {
      cwd: REPO_ROOT,
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
      env: Bun.env,
    },
  );
  const reader = testOutputReader();
  const copy = async (stream: ReadableStream<Uint8Array>, sink: { write(text: string): unknown }) => {
    let pending = "";
    const decoder = new TextDecoder();
    const emit = (line: string) => {
      reader.read(line);
      sink.write(`${prefix}${line}\n`);
    };
    for await (const chunk of stream) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) emit(line);
    }
    if (pending) emit(pending);
  };
  await Promise.all([copy(child.stdout, process.stdout), copy(child.stderr, process.stderr)]);
  return { ...reader.result, exitCode: await child.exited };
}

async function runLane(lane: Lane, extra: string[], prefix: string): Promise<{ runs: RunResult[]; seconds: number }> {
  const started = performance.now();
  const runs: RunResult[] = [];
  for (const files of lane.runs) runs.push(await runTests(files, extra, prefix));
  return { runs, seconds: Math.round((performance.now() - started) / 1000) };
}

async function main(args: string[]): Promise<number> {
  const full = args.includes("--full");
  const extra = args.filter((arg) => arg !== "--full" && arg !== "--list");
  const chosen = lanes(full);
  if (args.includes("--list")) {
    for (const lane of chosen) for (const file of lane.runs.flat()) console.log(`${lane.name} ${file}`);
    return 0;
  }
  const results = await Promise.all(
    chosen.map((lane) => runLane(lane, extra, chosen.length > 1 ? `[${lane.name}] ` : "")),
  );
  const all = results.flatMap((lane) => lane.runs);
  if (chosen.length > 1) {
    const laneText = (lane: Lane, i: number) => {
      const { runs = [], seconds = 0 } = results[i] ?? {};
      return `${lane.name} exit ${Math.max(...runs.map((run) => run.exitCode))} in ${seconds} s`;
    };
    console.log(`\nlanes: ${chosen.map(laneText).join(", ")}`);
    chosen.forEach((lane, i) => {
      for (const run of results[i]?.runs ?? [])
        for (const name of run.failed) console.log(`failed: [${lane.name}] ${name}`);
    });
    console.log(` ${all.reduce((sum, run) => sum + run.pass, 0)} pass`);
    console.log(` ${all.reduce((sum, run) => sum + run.fail, 0)} fail`);
  }
  return all.every((run) => run.exitCode === 0) ? 0 : 1;
}

if (import.meta.main) process.exit(await main(Bun.argv.slice(2)));
