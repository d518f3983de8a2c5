/** The split between `bun run test` (fast default) and `bun run test:full` (everything). */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allTestFiles, SUITE_TOOLS } from "../../lib/ci/suites";
import { HEAVY_GROUPS, heavyGroupOf, testPlan } from "../../lib/ci/test-groups";
import { COMPOSE } from "../../lib/ci/tools";
import { TEST_TIMEOUT_MS, testOutputReader } from "../../scripts/test";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const plan = testPlan(SUITE_TOOLS);
const heavyFiles = Object.values(plan.heavy).flat();

describe("test groups", () => {
  test("every test file is in exactly one group", () => {
    expect([...plan.fast, ...heavyFiles].sort()).toEqual(allTestFiles(REPO_ROOT));
  });

  test.each([
    ["tests/x/engine.test.ts", ["bash", "docker"], "engine"],
    ["tests/x/compose.test.ts", [COMPOSE], "engine"],
    ["tests/x/registry.test.ts", ["docker-registry", "skopeo"], "engine"],
    ["tests/x/load.test.ts", ["wrk"], "load"],
    ["tests/x/chart.test.ts", ["helm", "kubectl"], "charts"],
    ["tests/ci/parity.test.ts", ["git"], "release"],
    ["tests/release/x.test.ts", ["bash", "git"], "release"],
    ["tests/release/lint.test.ts", ["shellcheck"], "release"],
    ["tests/release/pure.test.ts", [], null],
    ["tests/bench/anything.test.ts", [], "load"],
    ["tests/k8s/settings.test.ts", [], "charts"],
    ["tests/faults/x.test.ts", ["bash", "docker", COMPOSE], "deploys"],
    ["tests/x/unit.test.ts", [], null],
    ["tests/x/git.test.ts", ["bash", "git", "skopeo"], null],
    ["tests/x/prometheus.test.ts", ["prometheus", "promtool"], null],
  ] as const)("%s needing %j → %s", (file, tools, group) => {
    expect(heavyGroupOf(file, tools)).toBe(group);
  });

  test("the fast default needs no engine, registry, chart tool or load generator", () => {
    const heavyTools = ["docker", COMPOSE, "docker-registry", "helm", "wrk"];
    const offenders = plan.fast.filter((file) => SUITE_TOOLS[file]?.some((tool) => heavyTools.includes(tool)));
    expect(offenders).toEqual([]);
    expect(plan.fast.length).toBeGreaterThan(0);
    for (const group of Object.keys(HEAVY_GROUPS))
      expect(plan.heavy[group as keyof typeof plan.heavy].length).toBeGreaterThan(0);
  });

  test("scripts/test.ts --list runs the fast files; --full runs every file, in three lanes", () => {
    const list = (...args: string[]) => {
      const result = Bun.spawnSync(["bun", "scripts/test.ts", "--list", ...args], { cwd: REPO_ROOT });
      expect(result.exitCode).toBe(0);
      return result.stdout.toString().trim().split("\n");
    };
    expect(list()).toEqual(plan.fast.map((file) => `fast ${file}`));
    const full = list("--full");
    expect(full.map((line) => line.split(" ")[1]).sort()).toEqual(allTestFiles(REPO_ROOT));
    const engineLane = full.filter((line) => line.startsWith("engine ")).map((line) => line.slice("engine ".length));
    expect(engineLane.sort()).toEqual([...plan.heavy.engine, ...plan.heavy.load].sort());
    const deploysLane = full.filter((line) => line.startsWith("deploys ")).map((line) => line.slice("deploys ".length));
    expect(deploysLane.sort()).toEqual([...plan.heavy.deploys].sort());
    expect(deploysLane).toContain("tests/faults/interrupts.test.ts");
  });

  test("package.json's test scripts and .ci/run use the split", async () => {
    const scripts = (await Bun.file(join(REPO_ROOT, "package.json")).json()).scripts;
    expect(scripts.test).toBe("bun scripts/test.ts");
    expect(scripts["test:full"]).toBe("bun scripts/test.ts --full");
    const ciRun = await Bun.file(join(REPO_ROOT, ".ci", "run")).text();
    expect(ciRun).toContain("bun run test:full");
  });
});

test("Bun keeps the preload's default timeout for the first file only; --timeout (what scripts/test.ts passes) reaches every file, and scripts/test.ts names the test that failed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "timekit-timeout-"));
  try {
    writeFileSync(join(dir, "bunfig.toml"), '[test]\npreload = ["./setup.ts"]\n');
    writeFileSync(join(dir, "setup.ts"), 'import { setDefaultTimeout } from "bun:test";\nsetDefaultTimeout(20_000);\n');
    const slow =
      'import { expect, test } from "bun:test";\ntest("slow", async () => { await Bun.sleep(5500); expect(1).toBe(1); });\n';
    writeFileSync(join(dir, "a.test.ts"), slow);
    writeFileSync(join(dir, "b.test.ts"), slow);
    const run = async (...args: string[]) => {
      const child = Bun.spawn(["bun", "test", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
      const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
      return { code: await child.exited, text: out + err };
    };
    const [plain, withTimeout] = await Promise.all([run(), run(`--timeout=${TEST_TIMEOUT_MS}`)]);
    expect(plain.text).toMatch(/ 1 pass\n 1 fail/);
    const reader = testOutputReader();
    for (const line of plain.text.split("\n")) reader.read(line);
    expect(reader.result).toMatchObject({ pass: 1, fail: 1 });
    expect(reader.result.failed).toHaveLength(1);
    expect(reader.result.failed[0]).toMatch(/^[ab]\.test\.ts > slow$/);
    expect(plain.code).toBe(1);
    expect(withTimeout.text).toMatch(/ 2 pass\n 0 fail/);
    expect(withTimeout.code).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
