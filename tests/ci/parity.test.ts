/**
 * Runner parity: every job of ci.yml, release.yml, deploy.yml and kind.yml (up to where a cluster
 * must answer) runs its steps in a fresh clone of HEAD with CI=true and a PATH holding only the
 * ubuntu-24.04 image's commands plus what the job installs itself (scripts/ci/parity/runner.ts).
 * Heavy calls are resolve-only (scripts/ci/parity/commands.ts; docs/pipeline.md). Then the checks
 * that a broken workflow is caught: the original missing-tools bug, an unset output, a missing
 * command, a step that cannot pass.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareRunnerImage, type RunnerImage } from "../../scripts/ci/parity/image";
import { type EventSpec, type JobRecord, type ParityReport, runWorkflow } from "../../scripts/ci/parity/runner";
import { eventFor, sourceWithRelease, type WorkflowName } from "../../scripts/ci/parity/scenarios";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const WORKFLOWS = join(REPO_ROOT, ".github", "workflows");

// Fresh clones and `bun install` per job on a busy 2-core machine: a generous hang guard.
setDefaultTimeout(300_000);

let scratch: string;
let image: RunnerImage;
let source: string;
let runs = 0;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "timekit-parity-test-"));
  image = prepareRunnerImage(scratch);
  source = sourceWithRelease(REPO_ROOT, scratch);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function replay(
  file: WorkflowName,
  options: { text?: string; jobs?: string[]; event?: EventSpec; secrets?: Record<string, string> } = {},
): Promise<ParityReport> {
  return runWorkflow({
    source,
    file,
    text: options.text ?? (await Bun.file(join(WORKFLOWS, file)).text()),
    event: options.event ?? eventFor(file, source),
    image,
    workDir: join(scratch, `run-${++runs}`),
    ...(options.jobs ? { jobs: options.jobs } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
  });
}

/** A workflow of one job with these steps, under the project's strict shell. */
function inline(steps: string, extraJobs = ""): string {
  return `on: push
defaults:
  run:
    shell: bash --noprofile --norc -euo pipefail {0}
jobs:
  a:
    runs-on: ubuntu-24.04
${steps}
${extraJobs}`;
}

const job = (report: ParityReport, id: string): JobRecord[] => report.jobs.filter((j) => j.id === id);
const step = (record: JobRecord | undefined, label: string) => record?.steps.find((s) => s.label.startsWith(label));

describe("the repository's workflows on the runner's PATH", () => {
  test("ci.yml: every job passes on a pull request changing service2", async () => {
    const report = await replay("ci.yml");
    expect(report.problems).toEqual([]);
    expect(report.jobs.map((j) => [j.id, j.leg, j.result])).toEqual([
      ["changes", "", "success"],
      ["check", "", "success"],
      ["docker", "service2", "success"],
      ["ci-gate", "", "success"],
    ]);
    expect(job(report, "changes")[0]?.outputs).toEqual({ services: '["service2"]', any: "true" });
    const check = job(report, "check")[0];
    expect(step(check, "tools the suites need")?.mode).toBe("ran");
    const suites = step(check, "unit and integration tests");
    expect(suites?.mode).toBe("resolve-only");
    for (const tool of ["prometheus", "promtool", "wrk", "docker-registry", "skopeo", "shellcheck"]) {
      expect(suites?.detail).toContain(tool);
    }
    expect(step(check, "workflow rules")?.mode).toBe("ran");
  });

  test("release.yml: after CI passed on main, service2's release and promotion run every step", async () => {
    const report = await replay("release.yml");
    expect(report.problems).toEqual([]);
    expect(report.jobs.map((j) => [j.id, j.leg, j.result])).toEqual([
      ["plan", "", "success"],
      ["release", "service2", "success"],
      ["promote", "service2", "success"],
    ]);
    const release = job(report, "release")[0];
    expect(release?.steps.filter((s) => s.mode === "skipped")).toEqual([]);
    expect(step(release, "version")?.detail).toMatch(/release="true" version="\d+\.\d+\.\d+"/);
    expect(step(release, "integration")?.detail).toContain("--other_version=known-good");
    expect(step(release, "publish")?.detail).toMatch(/outputs: digest="sha256:0{64}"/);
    expect(step(release, "GitHub's build provenance for the archive")?.detail).toContain("provenance of 1 file(s)");
    const promote = job(report, "promote")[0];
    expect(promote?.steps.filter((s) => s.mode === "skipped")).toEqual([]);
    expect(step(promote, "actions/download-artifact")?.detail).toMatch(
      /artifact release-service2-\d+\.\d+\.\d+: 4 file\(s\)/,
    );
    expect(step(promote, "GitHub Release")?.detail).toContain("resolve-only gh release view service2-v");
    const record = step(promote, "record the version and CHANGELOG on main");
    expect(record?.mode).toBe("resolve-only");
    expect(record?.detail).toContain("resolve-only git push origin HEAD:refs/heads/main");
  });

  test("release.yml without the signing key secret: publish stops with what to set", async () => {
    const report = await replay("release.yml", { secrets: { GITHUB_TOKEN: "t" } });
    expect(job(report, "release")[0]?.result).toBe("failure");
    expect(report.problems.join("\n")).toContain("set the repository secret TIMEKIT_SIGNING_KEY");
    expect(job(report, "promote")[0]?.result).toBe("skipped");
  });

  test("release.yml by hand: only from main, and only the services asked for", async () => {
    const dispatch = (ref: string, services: string): EventSpec => ({
      name: "workflow_dispatch",
      ref,
      payload: { inputs: { services, bootstrap: false } },
      inputs: { services, bootstrap: false },
    });
    const fromBranch = await replay("release.yml", { event: dispatch("refs/heads/feature", "both") });
    expect(fromBranch.problems).toEqual([]);
    expect(fromBranch.jobs.map((j) => [j.id, j.result])).toEqual([
      ["plan", "skipped"],
      ["release", "skipped"],
      ["promote", "skipped"],
    ]);
    const onlyService1 = await replay("release.yml", { event: dispatch("refs/heads/main", "service1") });
    expect(onlyService1.problems).toEqual([]);
    expect(job(onlyService1, "plan")[0]?.outputs).toMatchObject({ services: "[]", any: "false" });
    expect(job(onlyService1, "release")[0]?.result).toBe("skipped");
    expect(job(onlyService1, "promote")[0]?.result).toBe("skipped");
  });

  test("release.yml after a failed CI run, or CI on a pull request: nothing runs", async () => {
    const completed = (conclusion: string, event: string): EventSpec => ({
      name: "workflow_run",
      ref: "refs/heads/main",
      payload: { workflow_run: { name: "ci", conclusion, event, head_branch: "main", head_sha: "0".repeat(40) } },
    });
    for (const event of [completed("failure", "push"), completed("success", "pull_request")]) {
      const report = await replay("release.yml", { event });
      expect(report.jobs.map((j) => [j.id, j.result])).toEqual([
        ["plan", "skipped"],
        ["release", "skipped"],
        ["promote", "skipped"],
      ]);
    }
  });

  test("deploy.yml: the manual deploy job resolves everything it calls", async () => {
    const report = await replay("deploy.yml");
    expect(report.problems).toEqual([]);
    expect(job(report, "deploy")[0]?.result).toBe("success");
  });

  test("kind.yml: runs to the cluster, then every later step's commands resolve", async () => {
    const report = await replay("kind.yml");
    expect(report.problems).toEqual([]);
    const kind = job(report, "kind")[0];
    const cluster = kind?.steps.findIndex((s) => s.label.startsWith("helm/kind-action@")) ?? -1;
    expect(cluster).toBeGreaterThan(0);
    expect(kind?.steps.slice(cluster + 1).every((s) => s.mode === "resolve-only" || s.mode === "skipped")).toBe(true);
    expect(step(kind, "install Calico")?.detail).toContain("sha256sum");
  });
});

describe("what the parity test catches", () => {
  test("the original bug: ci.yml's check job without the install step (prometheus, wrk, docker-registry)", async () => {
    const original = await Bun.file(join(WORKFLOWS, "ci.yml")).text();
    const text = original.replace(
      /\n {6}- name: tools the suites need[^\n]*\n {8}run: bun scripts\/ci\/install-tools\.ts\n/,
      "\n",
    );
    expect(text.length).toBeLessThan(original.length);
    const report = await replay("ci.yml", { text, jobs: ["check"] });
    const problems = report.problems.join("\n");
    for (const tool of ["prometheus", "promtool", "wrk", "docker-registry"]) {
      expect(problems).toContain(`command not found: ${tool}`);
    }
    expect(job(report, "check")[0]?.result).toBe("failure");
  });

  test("an output a later job reads that no step set", async () => {
    const text = inline(
      `    outputs:
      version: \${{ steps.version.outputs.verison }}
    steps:
      - id: version
        run: echo "version=1.2.3" >> "$GITHUB_OUTPUT"`,
      `  b:
    needs: a
    runs-on: ubuntu-24.04
    steps:
      - env:
          V: \${{ needs.a.outputs.version }}
          W: \${{ needs.a.outputs.tag }}
        run: echo "$V $W"`,
    );
    const report = await replay("ci.yml", { text });
    expect(report.problems).toEqual([
      "ci.yml › a outputs: reads steps.version.outputs.verison, which was never set",
      'ci.yml › b › #1 echo "$V $W": reads needs.a.outputs.version, which was never set',
      'ci.yml › b › #1 echo "$V $W": reads needs.a.outputs.tag, which job a does not declare',
    ]);
  });

  test("a command the runner image lacks, in a step that runs for real", async () => {
    const report = await replay("ci.yml", { text: inline("    steps:\n      - run: wrk --version || true") });
    expect(report.problems).toEqual([
      "ci.yml › a › #1 wrk --version || true: command not found on the runner's PATH: wrk",
    ]);
  });

  test("GITHUB_ENV, GITHUB_PATH and outputs carry over; a failing pipe stage fails the step", async () => {
    const steps = `    steps:
      - id: set
        run: |
          mkdir -p "$RUNNER_TEMP/bin"
          printf '#!/bin/sh\\necho from-path\\n' > "$RUNNER_TEMP/bin/hello" && chmod +x "$RUNNER_TEMP/bin/hello"
          echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
          echo "GREETING=hi" >> "$GITHUB_ENV"
          echo "word=out" >> "$GITHUB_OUTPUT"
      - env:
          WORD: \${{ steps.set.outputs.word }}
        run: test "$(hello) $GREETING $WORD" = "from-path hi out"
      - run: false | cat`;
    const report = await replay("ci.yml", { text: inline(steps) });
    expect(job(report, "a")[0]?.steps.map((s) => s.ok)).toEqual([true, true, false]);
    expect(report.problems).toEqual([expect.stringContaining("ci.yml › a › #3 false | cat: exit 1")]);
  });

  test("an action without a simulator, and a Bun version other than this machine's", async () => {
    const steps = `    steps:
      - uses: actions/cache@0123456789abcdef0123456789abcdef01234567 # v9.9.9
      - uses: oven-sh/setup-bun@0c5077e51419868618aeaa5fe8019c62421857d6 # v2.2.0
        if: always()
        with:
          bun-version: 0.0.1`;
    const report = await replay("ci.yml", { text: inline(steps) });
    expect(report.problems).toEqual([
      expect.stringContaining("no simulator for actions/cache@0123456789abcdef0123456789abcdef01234567"),
      expect.stringContaining(`bun-version 0.0.1; this machine has ${Bun.version}`),
    ]);
  });
});
