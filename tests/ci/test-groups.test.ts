/** The split between `bun run test` (fast default) and `bun run test:full` (everything). */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { allTestFiles, SUITE_TOOLS } from "../../lib/ci/suites";
import { HEAVY_GROUPS, heavyGroupOf, testPlan } from "../../lib/ci/test-groups";
import { COMPOSE } from "../../lib/ci/tools";

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

  test("scripts/test.ts --list runs the fast files; --full runs every file, in two lanes", () => {
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
  });

  test("package.json's test scripts and .ci/run use the split", async () => {
    const scripts = (await Bun.file(join(REPO_ROOT, "package.json")).json()).scripts;
    expect(scripts.test).toBe("bun scripts/test.ts");
    expect(scripts["test:full"]).toBe("bun scripts/test.ts --full");
    const ciRun = await Bun.file(join(REPO_ROOT, ".ci", "run")).text();
    expect(ciRun).toContain("bun run test:full");
  });
});
