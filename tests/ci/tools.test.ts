/** The declared tool lists (lib/ci/tools.ts) against the code and the test files that use them. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  allTestFiles,
  PROCESS_TOOLS,
  SUITE_TOOLS,
  selectedTestFiles,
  startsProcessNeeding,
  suiteTools,
  toolsFor,
} from "../../lib/ci/suites";
import { CLI_TOOLS, cliTools, INSTALLED_TOOLS, RUNNER_IMAGE_TOOLS, resolves } from "../../lib/ci/tools";
import { prepareRunnerImage, STAND_INS } from "../../scripts/ci/parity/image";
import { repositoryImportGraph } from "../release/import-graph";
import { missingSuiteTools } from "../support/suite-tools";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const scratch = mkdtempSync(join(tmpdir(), "timekit-tools-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * A command named by a string literal where code starts a process or looks one up on PATH:
 * Bun.which, spawn/spawnSync/run/runChecked with an argv literal, and Bun shell's $`…`.
 */
const TOOL_CALL = /(?:(?:Bun\.which\(|(?:spawn|spawnSync|run|runChecked)\(\s*\[)\s*["'`]|\$`)([a-z][\w.-]*)["'`\s]/g;
/** Bun itself is what runs the suites. */
const NOT_COMMANDS = new Set(["bun"]);
/** Comments and types go: a command in a doc comment's example is not a command the code starts. */
const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Commands started by name in `source` (TypeScript), comments and types ignored. */
function toolsIn(source: string): string[] {
  const code = transpiler.transformSync(source);
  return [...code.matchAll(TOOL_CALL)].map((m) => m[1] as string).filter((tool) => !NOT_COMMANDS.has(tool));
}

/** What a test file's code starts by name: the file and what it imports statically (not `import()`). */
function referencedTools(testFile: string): Set<string> {
  const tools = new Set<string>();
  for (const file of repositoryImportGraph(REPO_ROOT, testFile, { dynamic: false })) {
    if (/\.ts$/.test(file)) for (const tool of toolsIn(readFileSync(join(REPO_ROOT, file), "utf8"))) tools.add(tool);
  }
  return tools;
}

describe("SUITE_TOOLS", () => {
  test("lists exactly the test files bun test finds", () => {
    expect(Object.keys(SUITE_TOOLS).sort()).toEqual(allTestFiles(REPO_ROOT));
  });

  test.each(Object.keys(SUITE_TOOLS))("%s lists exactly what its code starts, plus what its processes need", (file) => {
    const declared = new Set(SUITE_TOOLS[file]);
    const referenced = referencedTools(file);
    const undeclared = [...referenced].filter((tool) => !declared.has(tool));
    const stale = [...declared].filter((tool) => !referenced.has(tool) && !startsProcessNeeding(file, tool));
    expect({ undeclared, stale }).toEqual({ undeclared: [], stale: [] });
  });

  test("the scan sees through static imports, skips import() and comments", () => {
    // tests/cli/main.test.ts reaches the CLI, whose drivers (kubectl, helm, Compose) load lazily.
    const cli = referencedTools("tests/cli/main.test.ts");
    expect(cli.has("kubectl")).toBe(false);
    expect(cli.has("docker")).toBe(false);
    // lib/exec.ts's doc comment shows `run(["docker", …])`; only code counts. (The samples are
    // joined at run time so this file's own scan does not see them.)
    const sample = (...parts: string[]) => parts.join("");
    expect(toolsIn(sample("/** run([", '"docker", "ps"]) */\nconst x = 1;'))).toEqual([]);
    expect(toolsIn(sample("await run([", '"skopeo", "inspect"]);\nBun.which(', '"wrk");'))).toEqual(["skopeo", "wrk"]);
    // The registry suite starts docker-registry itself: the scan finds it through helpers.ts.
    expect(referencedTools("tests/deploy/pipeline.test.ts").has("docker-registry")).toBe(true);
  });

  test("every process-level entry names a test file that exists", () => {
    const files = allTestFiles(REPO_ROOT);
    for (const [tool, prefixes] of Object.entries(PROCESS_TOOLS)) {
      for (const prefix of prefixes) expect([tool, files.some((f) => f.startsWith(prefix))]).toEqual([tool, true]);
    }
  });

  test("a declared command is on the runner image or installed by install-tools", () => {
    const image = prepareRunnerImage(scratch);
    const installed = INSTALLED_TOOLS.map((t) => t.command);
    const offered = (tool: string) => resolves(tool, image.bin) || installed.includes(tool);
    const declared = new Set([...Object.values(SUITE_TOOLS).flat(), ...Object.values(CLI_TOOLS).flat()]);
    expect([...declared].filter((tool) => !offered(tool))).toEqual([]);
  });

  test("the suites' own start-up check reads the same list", () => {
    const file = join(REPO_ROOT, "tests", "reliability", "steady-load.test.ts");
    expect(missingSuiteTools(file, "/nonexistent")).toEqual(["wrk"]);
    expect(() => missingSuiteTools(join(REPO_ROOT, "tests", "nope.test.ts"))).toThrow(
      "tests/nope.test.ts is not listed in SUITE_TOOLS",
    );
  });

  test("suiteTools names the files that need each tool, and refuses an undeclared file", () => {
    const needs = suiteTools(["tests/reliability/prometheus.test.ts", "tests/reliability/steady-load.test.ts"]);
    expect(Object.fromEntries(needs)).toEqual({
      prometheus: ["tests/reliability/prometheus.test.ts"],
      promtool: ["tests/reliability/prometheus.test.ts"],
      wrk: ["tests/reliability/steady-load.test.ts"],
    });
    expect(() => suiteTools(["tests/new.test.ts"])).toThrow("declare the commands it needs");
  });
});

describe("INSTALLED_TOOLS", () => {
  test("onRunnerImage matches the image list (Compose counts as the image's docker plugin)", () => {
    for (const tool of INSTALLED_TOOLS) {
      const onImage = (RUNNER_IMAGE_TOOLS as readonly string[]).includes(tool.command) || tool.command in STAND_INS;
      expect([tool.command, tool.onRunnerImage]).toEqual([tool.command, onImage]);
    }
  });

  test("on the runner the script installs exactly wrk, prometheus/promtool, docker-registry and caddy", () => {
    expect(INSTALLED_TOOLS.filter((t) => !t.onRunnerImage).map((t) => t.command)).toEqual([
      "docker-registry",
      "prometheus",
      "promtool",
      "wrk",
      "caddy",
    ]);
  });

  test("--for narrows to what the selected suites need", () => {
    expect(toolsFor(["tests/reliability/prometheus"], REPO_ROOT).map((t) => t.command)).toEqual([
      "prometheus",
      "promtool",
    ]);
    expect(toolsFor(["tests/docker"], REPO_ROOT).map((t) => t.command)).toEqual([
      "docker",
      "docker-compose",
      "skopeo",
      "yamllint",
      "caddy",
    ]);
    expect(toolsFor(["tests/edge"], REPO_ROOT).map((t) => t.command)).toEqual([
      "docker",
      "docker-compose",
      "docker-registry",
      "skopeo",
      "caddy",
    ]);
    expect(toolsFor([], REPO_ROOT)).toEqual([...INSTALLED_TOOLS]);
    expect(() => toolsFor(["tests/nothing-here"], REPO_ROOT)).toThrow("--for=tests/nothing-here selects no test file");
  });
});

describe("selectedTestFiles (as bun test reads its arguments)", () => {
  test("path filters are substrings; ignore patterns are globs; value options are skipped", () => {
    const docker = selectedTestFiles(["tests/docker"], REPO_ROOT);
    expect(docker.length).toBeGreaterThan(0);
    expect(docker.every((f) => f.startsWith("tests/docker/"))).toBe(true);
    const all = selectedTestFiles([], REPO_ROOT);
    const notDocker = selectedTestFiles(["--path-ignore-patterns=tests/docker/**"], REPO_ROOT);
    expect(notDocker.length).toBe(all.length - docker.length);
    expect(selectedTestFiles(["--timeout", "tests/docker", "./tests/release/workflows.test.ts"], REPO_ROOT)).toEqual([
      "tests/release/workflows.test.ts",
    ]);
  });
});

describe("cliTools", () => {
  test("per subcommand and target", () => {
    expect(cliTools("promote", [])).toEqual(["skopeo"]);
    expect(cliTools("up", [])).toEqual(["caddy", "docker", "docker-compose", "git"]);
    expect(cliTools("up", ["--target=k8s"])).toEqual(["docker", "git", "kubectl"]);
    expect(cliTools("rollback", ["--target=helm"])).toEqual(["docker", "kubectl", "helm"]);
  });

  test("an unknown subcommand is an error naming the allowed ones", () => {
    expect(() => cliTools("deploy", [])).toThrow("deploy.ts deploy: not a subcommand (allowed: version, build,");
  });
});
