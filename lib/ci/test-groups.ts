/**
 * Which test files `bun run test` (the fast default a newcomer runs) and `bun run test:full`
 * (everything, as `.ci/run` runs it) select, derived from what each file needs (SUITE_TOOLS in
 * lib/ci/suites.ts) so a new suite lands in the right group without anyone listing it here.
 *
 * Fast: unit tests, the CLI in-process, and the services as real local processes. Full adds the
 * suites that need a container engine, a registry, the chart tools (helm/kubectl from npm), a
 * load generator, or temporary git repositories (the release tooling, the workflow replays). No npm
 * dependencies.
 */
import { COMPOSE } from "./tools";

/** A suite that needs one of these commands belongs to a heavy group. */
const ENGINE_TOOLS = new Set(["docker", COMPOSE, "docker-registry"]);
const CHART_TOOLS = new Set(["helm"]);
const LOAD_TOOLS = new Set(["wrk"]);

export type HeavyGroup = "engine" | "edge" | "deploys" | "charts" | "load" | "release";
/** Release tooling and workflow suites that build git repositories or lint every workflow. */
const RELEASE_TOOLS = new Set(["git", "shellcheck"]);

/** `test:full`'s lanes, which run at once; each runs its groups' files one `bun test` after another. */
export type Lane = "fast" | "engine" | "deploys";

/**
 * Heavy groups, each with why it is not in the fast default and the lane it runs in. The engine
 * work is split in three lanes that share the engine: `engine` (image builds, the Compose and
 * release suites, then the load generator), `deploys` (the fault-injection suites: dozens of
 * deploys under a steady client, the longest work), and the edge suites in `fast`, after the fast
 * default and `charts` and `release` (which only render, lint and work in temporary directories),
 * so that lane is not idle for most of the run. Each suite has its own project, port and image
 * repository, and none asserts a wall-clock time.
 */
export const HEAVY_GROUPS: Readonly<Record<HeavyGroup, { why: string; lane: Lane }>> = {
  engine: { why: "builds images and deploys stacks on the Docker engine", lane: "engine" },
  edge: { why: "deploys the edge proxy in front of service2 under a steady client", lane: "fast" },
  deploys: { why: "deploys under steady load, stopped and broken at every step", lane: "deploys" },
  load: { why: "saturates the machine with a load generator", lane: "engine" },
  charts: { why: "downloads helm/kubectl from npm and renders every chart", lane: "fast" },
  release: {
    why: "builds temporary git repositories for the release tooling, lints and replays the workflows",
    lane: "fast",
  },
};

/** Files in a heavy group although their tool list alone does not say so. */
const BY_PATH: ReadonlyArray<[prefix: string, group: HeavyGroup]> = [
  ["tests/faults/", "deploys"],
  ["tests/edge/", "edge"],
  ["tests/ci/parity.test.ts", "release"],
  ["tests/bench/", "load"],
  // Compiles both services and sends 50,000 requests: a soak, not a check a newcomer waits for.
  ["tests/reliability/memory.test.ts", "load"],
  // The Kubernetes suites (kind.yml's actionlint run included) belong with the chart tools.
  ["tests/k8s/", "charts"],
];

/** The heavy group `file` belongs to, or null when it is part of the fast default. */
export function heavyGroupOf(file: string, tools: readonly string[]): HeavyGroup | null {
  const byPath = BY_PATH.find(([prefix]) => file.startsWith(prefix));
  if (byPath) return byPath[1];
  if (tools.some((tool) => ENGINE_TOOLS.has(tool))) return "engine";
  if (tools.some((tool) => LOAD_TOOLS.has(tool))) return "load";
  if (tools.some((tool) => CHART_TOOLS.has(tool))) return "charts";
  if (file.startsWith("tests/release/") && tools.some((tool) => RELEASE_TOOLS.has(tool))) return "release";
  return null;
}

export interface TestPlan {
  fast: string[];
  heavy: Record<HeavyGroup, string[]>;
}

/** Every listed test file, split into the fast default and the heavy groups, each sorted. */
export function testPlan(suiteTools: Readonly<Record<string, readonly string[]>>): TestPlan {
  const heavy = Object.fromEntries(
    Object.keys(HEAVY_GROUPS).map((group) => [group, []]),
  ) as unknown as TestPlan["heavy"];
  const plan: TestPlan = { fast: [], heavy };
  for (const file of Object.keys(suiteTools).sort()) {
    const group = heavyGroupOf(file, suiteTools[file] ?? []);
    if (group) plan.heavy[group].push(file);
    else plan.fast.push(file);
  }
  return plan;
}
