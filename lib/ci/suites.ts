/**
 * Which commands each test file needs, and which test files a `bun test` command line or an
 * `install-tools --for` filter selects. Used by the suites' start-up check, install-tools, and
 * the runner-parity test. No npm dependencies: install-tools imports this before `bun install`.
 */
import { COMPOSE, cliTools, INSTALLED_TOOLS, type InstalledTool } from "./tools";

/**
 * The commands each test file needs besides bun, as repository-relative paths; `[]` means Bun
 * alone. tests/ci/tools.test.ts keeps the list exact in both directions where it can see:
 * - every command the file's code starts by name (a string literal in `Bun.which`, `spawn`,
 *   `run`, `$\`…\``), in the file and what it imports statically, must be listed. Lazily
 *   imported code (`await import()`: the CLI's drivers and commands) is not followed: a suite
 *   that needs it runs it as a process or says so here;
 * - every listed command must be found that way, or be one a process the file starts needs
 *   (PROCESS_TOOLS below: the CLI, a script, a chart tool), so no list grows stale.
 * The runner-parity test checks these lists on the runner's PATH, and install-tools --for
 * installs from them.
 */
export const SUITE_TOOLS: Readonly<Record<string, readonly string[]>> = {
  "packages/runtime/test/config.test.ts": [],
  "packages/runtime/test/http.test.ts": [],
  "service1/test/app.test.ts": [],
  "service2/test/app.test.ts": [],
  "service2/test/endpoints.test.ts": ["openssl"],
  "service2/test/format.test.ts": [],
  "tests/bench/bench.test.ts": [
    "apt-get",
    "bash",
    "docker",
    "getconf",
    "git",
    "node",
    "npm",
    "skopeo",
    "taskset",
    "wrk",
  ],
  "tests/ci/expressions.test.ts": ["git"],
  "tests/ci/install-tools.test.ts": ["apt-get", "dpkg-query"],
  "tests/ci/parity.test.ts": ["bash", "dpkg-query", "git", "shellcheck"],
  "tests/ci/test-groups.test.ts": [],
  "tests/ci/tools.test.ts": ["dpkg-query"],
  "tests/cli/completion.test.ts": ["bash", "shellcheck", "skopeo"],
  "tests/cli/deploy-file.test.ts": ["bash", "skopeo"],
  "tests/cli/hostile.test.ts": ["bash", "skopeo"],
  "tests/cli/main.test.ts": ["bash", "skopeo"],
  "tests/cli/parse.test.ts": ["bash", "skopeo"],
  "tests/cli/release.test.ts": ["bash", "skopeo"],
  "tests/cli/reuse.test.ts": ["bash", "skopeo"],
  "tests/cli/settings-flags.test.ts": ["bash", "skopeo"],
  "tests/cli/smoke.test.ts": [],
  "tests/deploy/actions.test.ts": ["bash", "skopeo", "true"],
  "tests/deploy/compose.test.ts": ["bash", "caddy", "docker", COMPOSE, "docker-registry", "git", "skopeo"],
  "tests/deploy/lock-race.test.ts": ["true"],
  "tests/deploy/pipeline.test.ts": ["bash", "caddy", "docker", COMPOSE, "docker-registry", "git", "skopeo"],
  "tests/deploy/state.test.ts": ["bash", "skopeo", "true"],
  "tests/deploy/version-grammar.test.ts": ["bash", "skopeo"],
  "tests/docker/balancing.test.ts": ["bash", "caddy", "docker", COMPOSE, "git"],
  "tests/docker/compose.test.ts": ["bash", "caddy", "docker", COMPOSE, "git", "skopeo"],
  "tests/docker/image.test.ts": ["bash", "docker", COMPOSE, "git", "skopeo"],
  "tests/docker/lint.test.ts": ["bash", "docker", COMPOSE, "yamllint"],
  "tests/docker/restart-policy.test.ts": ["bash", "docker", COMPOSE, "git", "skopeo"],
  "tests/docker/rootfs.test.ts": ["bash", "docker", "git", "skopeo"],
  "tests/docs/architecture.test.ts": [],
  "tests/docs/commands.test.ts": ["bash", "skopeo"],
  "tests/docs/readme.test.ts": [],
  "tests/edge/edge.test.ts": ["bash", "caddy", "docker", COMPOSE, "docker-registry", "git", "skopeo"],
  "tests/edge/flags.test.ts": ["bash", "docker", "skopeo"],
  "tests/edge/image.test.ts": ["bash", "caddy", "docker", COMPOSE, "git", "skopeo", "tar"],
  "tests/exec.test.ts": ["bash", "cat", "env", "printf", "sh", "sleep", "true"],
  "tests/faults/enospc.test.ts": [
    "bash",
    "caddy",
    "docker",
    COMPOSE,
    "docker-registry",
    "git",
    "mount",
    "skopeo",
    "umount",
  ],
  "tests/faults/gate.test.ts": ["bash", "caddy", "docker", COMPOSE, "docker-registry", "git", "skopeo"],
  "tests/faults/interrupts.test.ts": ["bash", "caddy", "docker", COMPOSE, "docker-registry", "git", "skopeo"],
  "tests/images/build-metadata.test.ts": ["bash", "docker", "git", "skopeo"],
  "tests/images/image-files.test.ts": [],
  "tests/images/publish.test.ts": ["bash", "docker", "git", "skopeo"],
  "tests/images/signing.test.ts": ["bash", "docker", "skopeo"],
  "tests/integration/balancing.test.ts": [],
  "tests/integration/services.test.ts": [],
  "tests/k8s/agreement.test.ts": ["bash", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/helm.test.ts": ["bash", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/kustomize.test.ts": ["bash", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/policy.test.ts": ["bash", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/render.test.ts": ["bash", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/settings.test.ts": [],
  "tests/k8s/tools.test.ts": ["bash", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/validate.test.ts": ["bash", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/workflow.test.ts": ["bash", "kubectl"],
  "tests/openapi/documents.test.ts": [],
  "tests/release/changed.test.ts": ["bash", "git"],
  "tests/release/changelog.test.ts": ["bash", "git"],
  "tests/release/commits.test.ts": [],
  "tests/release/services.test.ts": [],
  "tests/release/version-command.test.ts": ["bash", "git"],
  "tests/release/version-git.test.ts": ["bash", "git"],
  "tests/release/version.test.ts": ["bash", "git"],
  "tests/release/workflow-lint.test.ts": ["bash", "shellcheck"],
  "tests/release/workflow-rules.test.ts": [],
  "tests/release/workflows.test.ts": [],
  "tests/reliability/faults-under-load.test.ts": [],
  "tests/reliability/fuzz.test.ts": [],
  "tests/reliability/malformed-http.test.ts": [],
  "tests/reliability/memory.test.ts": [],
  "tests/reliability/prometheus.test.ts": ["prometheus", "promtool"],
  "tests/reliability/promtool.test.ts": ["promtool"],
  "tests/reliability/slow-clients.test.ts": [],
  "tests/reliability/steady-load.test.ts": ["wrk"],
  "tests/targets/compose-argv.test.ts": [],
  "tests/targets/compose-stack.test.ts": ["bash", "docker", "skopeo"],
  "tests/targets/compose-status.test.ts": ["bash", "docker", "skopeo"],
  "tests/targets/k8s-argv.test.ts": ["bash", "docker", "git", "helm", "kubectl", "npm", "skopeo", "tar"],
  "tests/targets/k8s.test.ts": ["bash", "helm", "kubectl", "npm", "skopeo", "tar"],
};

/**
 * Commands a test file needs through a process it starts or code it imports lazily, which the
 * static scan cannot see: the delivery CLI (`bun deploy.ts …`: Compose and git for `up`'s dev
 * builds), install-tools (apt-get, dpkg-query), the Kubernetes drivers and tools (kubectl, helm).
 * Each names the files (or path prefixes) that rely on it, so tests/ci/tools.test.ts can tell a
 * real need from a stale entry.
 */
export const PROCESS_TOOLS: Readonly<Record<string, readonly string[]>> = {
  [COMPOSE]: [
    "tests/deploy/compose.test.ts",
    "tests/deploy/pipeline.test.ts",
    "tests/docker/",
    "tests/faults/",
    "tests/edge/",
  ],
  git: ["tests/deploy/compose.test.ts", "tests/docker/balancing.test.ts", "tests/edge/"],
  // `up` assembles the edge image from the local Caddy.
  caddy: [
    "tests/deploy/compose.test.ts",
    "tests/deploy/pipeline.test.ts",
    "tests/docker/balancing.test.ts",
    "tests/faults/",
    "tests/edge/",
  ],
  "apt-get": ["tests/ci/install-tools.test.ts"],
  "dpkg-query": ["tests/ci/install-tools.test.ts"],
  bash: ["tests/ci/parity.test.ts"],
  shellcheck: ["tests/ci/parity.test.ts"],
  kubectl: ["tests/k8s/", "tests/targets/k8s"],
  helm: ["tests/k8s/", "tests/targets/k8s"],
};

/** Whether `file` may list `tool` for a process it starts (see PROCESS_TOOLS). */
export function startsProcessNeeding(file: string, tool: string): boolean {
  return (PROCESS_TOOLS[tool] ?? []).some((prefix) => file.startsWith(prefix));
}
/** The tools a set of test files needs, each with the files that need it. */
export function suiteTools(testFiles: readonly string[]): Map<string, string[]> {
  const needs = new Map<string, string[]>();
  for (const file of testFiles) {
    const tools = SUITE_TOOLS[file];
    if (!tools) {
      throw new Error(`${file} is not listed in SUITE_TOOLS (lib/ci/suites.ts): declare the commands it needs`);
    }
    for (const tool of tools) needs.set(tool, [...(needs.get(tool) ?? []), file]);
  }
  return needs;
}

/** `bun test` options that take a separate value. */
const TEST_VALUE_OPTIONS = new Set([
  "-t",
  "--test-name-pattern",
  "--timeout",
  "--preload",
  "--rerun-each",
  "--coverage-dir",
  "--reporter",
  "--reporter-outfile",
  "--max-concurrency",
  "--path-ignore-patterns",
]);
const TEST_FILE = /(\.test|_test|\.spec|_spec)\.[cm]?[jt]sx?$/;

/** Every test file under `root` that `bun test` would find, repository-relative, sorted. */
export function allTestFiles(root: string): string[] {
  return [...new Bun.Glob("**/*").scanSync({ cwd: root, onlyFiles: true })]
    .filter((file) => TEST_FILE.test(file) && !file.split("/").includes("node_modules"))
    .sort();
}

/** The test files `bun test <args>` selects in `root`: path filters (substrings) and ignore globs. */
export function selectedTestFiles(args: readonly string[], root: string): string[] {
  const filters: string[] = [];
  const ignores: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg.startsWith("--path-ignore-patterns=")) ignores.push(arg.slice("--path-ignore-patterns=".length));
    else if (arg === "--path-ignore-patterns") ignores.push(args[++i] ?? "");
    else if (TEST_VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith("-")) filters.push(arg.replace(/^\.\//, ""));
  }
  const globs = ignores.map((pattern) => new Bun.Glob(pattern));
  return allTestFiles(root).filter(
    (file) =>
      (filters.length === 0 || filters.some((filter) => file.includes(filter))) &&
      !globs.some((glob) => glob.match(file)),
  );
}

/**
 * The tools `install-tools --for=<filter>… --cli=<subcommand>…` provides: those the selected test
 * files need, plus those each `deploy.ts <subcommand>` needs (CLI_TOOLS); every INSTALLED_TOOLS
 * entry when neither is given. Throws when a filter selects no test file or names no subcommand.
 */
export function toolsFor(
  filters: readonly string[],
  root: string,
  subcommands: readonly string[] = [],
): InstalledTool[] {
  const forCli = new Set(subcommands.flatMap((subcommand) => cliTools(subcommand, [])));
  if (subcommands.length > 0 && filters.length === 0) return INSTALLED_TOOLS.filter((tool) => forCli.has(tool.command));
  if (filters.length === 0) return [...INSTALLED_TOOLS];
  const files = selectedTestFiles(filters, root);
  if (files.length === 0) throw new Error(`--for=${filters.join(",")} selects no test file`);
  const needed = suiteTools(files);
  return INSTALLED_TOOLS.filter((tool) => needed.has(tool.command) || forCli.has(tool.command));
}
