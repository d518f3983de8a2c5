/**
 * Timings of `bun deploy.ts`: dry run, up, a re-run with nothing changed (with the same version
 * flags, and with none: what runs), `status`, an upgrade of service1, and an automatic rollback
 * from a service1 image that cannot become healthy; on a private project, port and state dir. Where the time of up and the upgrade goes: each step's
 * seconds from the deploy's own `--progress=json` events.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { docker, exec } from "./docker";
import type { BenchImages } from "./images";
import { note, step } from "./progress";
import { freePort } from "./servers";
import { type Summary, summarize } from "./stats";
import { ROOT } from "./throughput";

export type DeployStepId =
  | "cli"
  | "dry-run"
  | "up"
  | "unchanged"
  | "unchanged-implicit"
  | "status"
  | "upgrade"
  | "rollback";

export interface DeployStep {
  id: DeployStepId;
  label: string;
  /** Seconds per round; empty when not measured. */
  seconds: Summary;
  exitCodes: number[];
  expectedExit: number;
  /** Set when the step could not be measured, with the reason. */
  notMeasured?: string;
  /** The deploy's own steps (its `--progress=json` events): seconds per round, by step. */
  phases?: Record<string, Summary>;
}

export interface DeployResult {
  measuredAt: string;
  rounds: number;
  project: string;
  compose: string;
  steps: Record<DeployStepId, DeployStep>;
}

const LABELS: Record<DeployStepId, string> = {
  cli: "the CLI starting and exiting (--version)",
  "dry-run": "deploy --dry-run",
  up: "up (images present, empty project)",
  unchanged: "up again, nothing changed",
  "unchanged-implicit": "up again, nothing changed, no version flags (what runs)",
  status: "status",
  upgrade: "upgrade service1 (new image beside old)",
  rollback: "automatic rollback (unhealthy service1)",
};
const EXPECTED: Record<DeployStepId, number> = {
  cli: 0,
  "dry-run": 0,
  up: 0,
  unchanged: 0,
  "unchanged-implicit": 0,
  status: 0,
  upgrade: 0,
  rollback: 3,
};
/** Steps whose phases are reported. */
const PHASED: readonly DeployStepId[] = ["up", "unchanged", "upgrade"];

/** `{"event":"end","step":…,"seconds":…}` lines of a `--progress=json` run. */
function phaseSeconds(stderr: string): [string, number][] {
  const out: [string, number][] = [];
  for (const line of stderr.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const e = JSON.parse(line) as { event?: string; step?: string; seconds?: number };
      if (e.event === "end" && e.step && typeof e.seconds === "number") out.push([e.step, e.seconds]);
    } catch {
      // not an event
    }
  }
  return out;
}

/** Derived images: one that differs only by a label (an upgrade), one that exits at once. */
async function deriveImages(images: BenchImages, runId: string): Promise<{ upgrade: string; broken: string }> {
  const base = images.refs.service1;
  const upgrade = `0.0.2-bench.${runId}`;
  const broken = `0.0.3-bench.${runId}`;
  const build = async (tag: string, dockerfile: string) => {
    const r = await exec(["docker", "build", "-q", "-t", `timekit/service1:${tag}`, "-"], {
      stdin: dockerfile,
      env: { DOCKER_BUILDKIT: "0" },
    });
    if (r.code !== 0) throw new Error(`docker build ${tag}: ${r.stderr.trim()}`);
  };
  await build(upgrade, `FROM ${base}\nLABEL io.timekit.bench.variant="upgrade"\n`);
  // Prints its version and exits 0: never healthy, so the deploy must put the old one back.
  await build(broken, `FROM ${base}\nENTRYPOINT ["/usr/local/bin/service", "--version"]\n`);
  return { upgrade, broken };
}

export async function runDeploys(opts: { images: BenchImages; runId: string; rounds: number }): Promise<DeployResult> {
  const project = `timekit-bench-${opts.runId}`;
  const stateDir = mkdtempSync(join(tmpdir(), "timekit-bench-state-"));
  const samples = Object.fromEntries(
    (Object.keys(LABELS) as DeployStepId[]).map((id) => [
      id,
      { s: [] as number[], codes: [] as number[], phases: {} as Record<string, number[]> },
    ]),
  ) as Record<DeployStepId, { s: number[]; codes: number[]; phases: Record<string, number[]>; failure?: string }>;
  const version = opts.images.version;
  let compose = "unknown";
  const deploy = async (id: DeployStepId, args: string[]) => {
    const started = performance.now();
    const progress = PHASED.includes(id) ? ["--progress=json"] : [];
    const r = await exec([
      "bun",
      join(ROOT, "deploy.ts"),
      ...args,
      ...progress,
      `--project=${project}`,
      `--state_dir=${stateDir}`,
    ]);
    const seconds = (performance.now() - started) / 1000;
    for (const [phase, s] of phaseSeconds(r.stderr)) {
      const seen = samples[id].phases[phase] ?? [];
      seen.push(s);
      samples[id].phases[phase] = seen;
    }
    compose = /compose: (.+)/.exec(r.stdout + r.stderr)?.[1]?.trim() ?? compose;
    samples[id].codes.push(r.code);
    if (r.code === EXPECTED[id]) {
      samples[id].s.push(seconds);
    } else {
      samples[id].failure = `exit ${r.code}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" / ")}`;
      note(`${LABELS[id]} not measured: ${samples[id].failure}`);
    }
    return r.code;
  };
  try {
    const derived = await step("derive upgrade and broken service1 images", () =>
      deriveImages(opts.images, opts.runId),
    );
    for (let r = 0; r < opts.rounds; r++) {
      const port = await freePort();
      const base = [`--version_service2=${version}`, `--port=${port}`, "--health_timeout=30s"];
      await step(`deploy round ${r + 1}/${opts.rounds}: the CLI alone ×3`, async () => {
        for (let i = 0; i < 3; i++) await deploy("cli", ["--version"]);
      });
      await step(`deploy round ${r + 1}/${opts.rounds}: dry run ×3`, async () => {
        for (let i = 0; i < 3; i++)
          await deploy("dry-run", ["up", "--dry-run", `--version_service1=${version}`, ...base]);
      });
      const up = await step(`deploy round ${r + 1}/${opts.rounds}: up`, () =>
        deploy("up", ["up", `--version_service1=${version}`, ...base]),
      );
      if (up === 0) {
        await step(`deploy round ${r + 1}/${opts.rounds}: up again, nothing changed`, () =>
          deploy("unchanged", ["up", `--version_service1=${version}`, ...base]),
        );
        await step(`deploy round ${r + 1}/${opts.rounds}: up again, no version flags`, () =>
          deploy("unchanged-implicit", ["up"]),
        );
        await step(`deploy round ${r + 1}/${opts.rounds}: status`, () => deploy("status", ["status"]));
        const upgraded = await step(`deploy round ${r + 1}/${opts.rounds}: upgrade service1`, () =>
          deploy("upgrade", ["up", `--version_service1=${derived.upgrade}`, ...base]),
        );
        if (upgraded === 0) {
          await step(`deploy round ${r + 1}/${opts.rounds}: rollback from an unhealthy service1`, () =>
            deploy("rollback", ["up", `--version_service1=${derived.broken}`, ...base]),
          );
        }
      }
      await step(`deploy round ${r + 1}/${opts.rounds}: down`, () => tearDown(project, stateDir));
    }
  } finally {
    await tearDown(project, stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  }
  const steps = {} as Record<DeployStepId, DeployStep>;
  for (const id of Object.keys(samples) as DeployStepId[]) {
    const s = samples[id];
    steps[id] = { id, label: LABELS[id], seconds: summarize(s.s), exitCodes: s.codes, expectedExit: EXPECTED[id] };
    if (PHASED.includes(id) && Object.keys(s.phases).length > 0) {
      steps[id].phases = Object.fromEntries(Object.entries(s.phases).map(([phase, v]) => [phase, summarize(v)]));
    }
    if (s.s.length === 0) {
      steps[id].notMeasured = s.failure ?? "not reached: an earlier deploy step failed";
    }
  }
  return { measuredAt: new Date().toISOString(), rounds: opts.rounds, project, compose, steps };
}

/** `deploy.ts down`, then removes anything of the project it may have left (containers, network). */
export async function tearDown(project: string, stateDir: string): Promise<void> {
  await exec(["bun", join(ROOT, "deploy.ts"), "down", `--project=${project}`, `--state_dir=${stateDir}`, "--quiet"]);
  const left = await docker(["ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`]);
  const ids = left.stdout.split("\n").filter(Boolean);
  if (ids.length) await docker(["rm", "-f", ...ids]);
  const nets = await docker(["network", "ls", "-q", "--filter", `label=com.docker.compose.project=${project}`]);
  const netIds = nets.stdout.split("\n").filter(Boolean);
  if (netIds.length) await docker(["network", "rm", ...netIds]);
}
