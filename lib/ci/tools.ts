/**
 * Which commands the pipeline relies on, declared once:
 * - what GitHub's ubuntu-24.04 runner image provides (from its published software list),
 * - what `scripts/ci/install-tools.ts` installs when a machine lacks it (the same script for
 *   `.ci/run` and every workflow job that runs suites),
 * - which commands each test file needs (suites check this list at start, the runner-parity test
 *   checks it on the runner's PATH, and tests/ci/tools.test.ts checks it against the code).
 *
 * No npm dependencies: the install script imports this before `bun install` has run.
 */
import { existsSync } from "node:fs";

/**
 * Commands of the ubuntu-24.04 image the workflows and suites rely on, besides the base system
 * (see RUNNER_BASE_PACKAGES). `docker` there includes the Compose v2 and buildx plugins. Taken from
 * the image's published software list (actions/runner-images, Ubuntu2404-Readme.md); not checked
 * against a live runner from here.
 */
export const RUNNER_IMAGE_TOOLS = [
  "docker",
  "git",
  "jq",
  "curl",
  "wget",
  "skopeo",
  "shellcheck",
  "yamllint",
  "kubectl",
  "helm",
  "kind",
  "node",
  "npm",
  "npx",
  "python3",
  "sudo",
  "unzip",
  "zip",
] as const;

/**
 * Debian packages whose commands every Ubuntu image has (coreutils, the shells, apt/dpkg, …).
 * The parity test offers their executables, as installed here, as the runner's base system.
 */
export const RUNNER_BASE_PACKAGES = [
  "apt",
  "bash",
  "bsdutils",
  "bzip2",
  "coreutils",
  "dash",
  "debianutils",
  "diffutils",
  "dpkg",
  "file",
  "findutils",
  "gnupg",
  "grep",
  "gzip",
  "hostname",
  "libc-bin",
  "login",
  "mawk",
  "ncurses-bin",
  "openssh-client",
  "openssl",
  "passwd",
  "perl-base",
  "procps",
  "sed",
  "sensible-utils",
  "tar",
  "util-linux",
  "xz-utils",
  "zstd",
] as const;

export interface InstalledTool {
  /** The command the suites call. */
  command: string;
  /** The Debian/Ubuntu package that provides it. */
  apt: string;
  /** Whether the ubuntu-24.04 image already ships it (the script then installs nothing there). */
  onRunnerImage: boolean;
}

/**
 * What `scripts/ci/install-tools.ts` guarantees: each command that is not on PATH gets its package
 * installed. On the ubuntu-24.04 runner that means wrk, prometheus/promtool and docker-registry;
 * on a bare Debian machine everything here.
 */
export const INSTALLED_TOOLS: readonly InstalledTool[] = [
  { command: "docker", apt: "docker.io", onRunnerImage: true },
  // The runner's `docker compose` plugin satisfies this; Debian bookworm has only Compose v1.29.
  { command: "docker-compose", apt: "docker-compose", onRunnerImage: true },
  { command: "docker-registry", apt: "docker-registry", onRunnerImage: false },
  { command: "skopeo", apt: "skopeo", onRunnerImage: true },
  { command: "shellcheck", apt: "shellcheck", onRunnerImage: true },
  { command: "yamllint", apt: "yamllint", onRunnerImage: true },
  { command: "prometheus", apt: "prometheus", onRunnerImage: false },
  { command: "promtool", apt: "prometheus", onRunnerImage: false },
  { command: "wrk", apt: "wrk", onRunnerImage: false },
];

/**
 * Compose is a `docker compose` plugin on the runner and `docker-compose` (v1.29) here: suites
 * that need Compose list this pseudo-command, which either satisfies.
 */
export const COMPOSE = "docker-compose";

/**
 * The commands each test file needs besides bun, as repository-relative paths. Every test file
 * is listed (tests/ci/tools.test.ts fails on a missing or stale entry); `[]` means Bun alone.
 * The k8s suites fall back to installing helm/kubectl from npm (npm, tar) when PATH lacks them.
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
    "kubectl",
    "node",
    "npm",
    "skopeo",
    "taskset",
    "wrk",
  ],
  "tests/ci/expressions.test.ts": ["git"],
  "tests/ci/install-tools.test.ts": ["apt-get", "dpkg-query"],
  "tests/ci/parity.test.ts": ["bash", "dpkg-query", "git", "shellcheck"],
  "tests/ci/tools.test.ts": ["dpkg-query"],
  "tests/cli/main.test.ts": ["bash", "docker", "git", "kubectl", "npm", "skopeo", "tar"],
  "tests/cli/parse.test.ts": ["bash", "docker", "git", "kubectl", "npm", "skopeo", "tar"],
  "tests/cli/release.test.ts": ["bash", "docker", "git", "kubectl", "npm", "skopeo", "tar"],
  "tests/cli/settings-flags.test.ts": ["bash", "docker", "kubectl", "skopeo"],
  "tests/cli/smoke.test.ts": [],
  "tests/deploy/actions.test.ts": ["bash", "docker", "kubectl", "skopeo"],
  "tests/deploy/compose.test.ts": ["bash", "docker", "docker-compose", "docker-registry", "git", "kubectl", "skopeo"],
  "tests/deploy/pipeline.test.ts": ["bash", "docker", "docker-compose", "docker-registry", "git", "kubectl", "skopeo"],
  "tests/deploy/state.test.ts": ["bash", "docker", "kubectl", "skopeo", "true"],
  "tests/docker/balancing.test.ts": ["bash", "docker", "kubectl"],
  "tests/docker/compose.test.ts": ["bash", "docker", "docker-compose", "git", "kubectl", "skopeo"],
  "tests/docker/image.test.ts": ["bash", "docker", "docker-compose", "git", "kubectl", "skopeo"],
  "tests/docker/lint.test.ts": ["bash", "docker", "docker-compose", "git", "kubectl", "yamllint"],
  "tests/docker/restart-policy.test.ts": ["bash", "docker", "docker-compose", "git", "kubectl", "skopeo"],
  "tests/docker/rootfs.test.ts": ["bash", "docker", "git", "kubectl", "skopeo"],
  "tests/docs/architecture.test.ts": [],
  "tests/docs/readme.test.ts": [],
  "tests/exec.test.ts": ["bash", "cat", "docker", "env", "kubectl", "printf", "sh", "sleep", "true"],
  "tests/images/publish.test.ts": ["bash", "docker", "git", "kubectl", "skopeo"],
  "tests/integration/balancing.test.ts": [],
  "tests/integration/services.test.ts": [],
  "tests/k8s/agreement.test.ts": ["bash", "docker", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/helm.test.ts": ["bash", "docker", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/kustomize.test.ts": ["bash", "docker", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/policy.test.ts": ["bash", "docker", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/render.test.ts": ["bash", "docker", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/settings.test.ts": [],
  "tests/k8s/tools.test.ts": ["bash", "docker", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/validate.test.ts": ["bash", "docker", "helm", "kubectl", "npm", "tar"],
  "tests/k8s/workflow.test.ts": ["bash", "docker", "kubectl"],
  "tests/openapi/documents.test.ts": [],
  "tests/release/changed.test.ts": ["bash", "docker", "git", "kubectl"],
  "tests/release/commits.test.ts": [],
  "tests/release/services.test.ts": [],
  "tests/release/version-command.test.ts": ["bash", "docker", "git", "kubectl"],
  "tests/release/version-git.test.ts": ["bash", "docker", "git", "kubectl"],
  "tests/release/version.test.ts": ["bash", "docker", "git", "kubectl"],
  "tests/release/workflow-lint.test.ts": ["bash", "docker", "kubectl", "shellcheck"],
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
  "tests/targets/k8s-argv.test.ts": ["bash", "docker", "git", "kubectl", "npm", "skopeo", "tar"],
  "tests/targets/k8s.test.ts": ["bash", "docker", "git", "kubectl", "npm", "skopeo", "tar"],
};

/**
 * What the delivery CLI's subcommands call, for the parity test's resolve-only steps. `up` is the
 * default subcommand; `--target=k8s|helm` adds kubectl/helm (see cliTools).
 */
export const CLI_TOOLS: Readonly<Record<string, readonly string[]>> = {
  version: ["git"],
  build: ["docker", "git"],
  publish: ["docker", "skopeo", "git"],
  integrate: ["docker", COMPOSE, "skopeo"],
  promote: ["skopeo"],
  up: ["docker", COMPOSE, "git"],
  down: ["docker", COMPOSE],
  status: ["docker", COMPOSE],
  history: [],
  rollback: ["docker", COMPOSE],
};

/** The commands `bun deploy.ts <subcommand> [flags]` needs. */
export function cliTools(subcommand: string, flags: readonly string[]): readonly string[] {
  const base = CLI_TOOLS[subcommand];
  if (!base) {
    throw new Error(`deploy.ts ${subcommand}: not a subcommand (allowed: ${Object.keys(CLI_TOOLS).join(", ")})`);
  }
  const target = flags.find((flag) => /^--target[=]/.test(flag))?.split("=")[1];
  if (target === "k8s") return [...base.filter((t) => t !== COMPOSE), "kubectl"];
  if (target === "helm") return [...base.filter((t) => t !== COMPOSE), "kubectl", "helm"];
  return base;
}

/** The tools a set of test files needs, each with the files that need it. */
export function suiteTools(testFiles: readonly string[]): Map<string, string[]> {
  const needs = new Map<string, string[]>();
  for (const file of testFiles) {
    const tools = SUITE_TOOLS[file];
    if (!tools) {
      throw new Error(`${file} is not listed in SUITE_TOOLS (lib/ci/tools.ts): declare the commands it needs`);
    }
    for (const tool of tools) needs.set(tool, [...(needs.get(tool) ?? []), file]);
  }
  return needs;
}

/**
 * Whether `tool` resolves on `path`. Compose resolves as `docker-compose` or, where a Docker CLI
 * plugin directory holds it, as `docker compose`.
 */
export function resolves(tool: string, path: string): boolean {
  if (Bun.which(tool, { PATH: path }) !== null) return true;
  if (tool === COMPOSE) return composePluginPresent();
  return false;
}

function composePluginPresent(): boolean {
  const home = Bun.env.DOCKER_CONFIG ?? `${Bun.env.HOME ?? ""}/.docker`;
  const dirs = [
    `${home}/cli-plugins`,
    "/usr/local/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
  ];
  return dirs.some((dir) => existsSync(`${dir}/docker-compose`));
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
 * The tools `install-tools --for=<filter>…` provides: those the selected test files need (every
 * INSTALLED_TOOLS entry without filters). Throws when a filter selects no test file.
 */
export function toolsFor(filters: readonly string[], root: string): InstalledTool[] {
  if (filters.length === 0) return [...INSTALLED_TOOLS];
  const files = selectedTestFiles(filters, root);
  if (files.length === 0) throw new Error(`--for=${filters.join(",")} selects no test file`);
  const needed = suiteTools(files);
  return INSTALLED_TOOLS.filter((tool) => needed.has(tool.command));
}
