/**
 * Which commands the pipeline relies on, declared once:
 * - what GitHub's ubuntu-24.04 runner image provides (from its published software list),
 * - what `scripts/ci/install-tools.ts` installs when a machine lacks it (the same script for
 *   `.ci/run` and every workflow job that runs suites),
 * - what the delivery CLI's subcommands call.
 * Which commands each test file needs is in lib/ci/suites.ts.
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
  "gh",
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
  "mount",
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
 * installed. On the ubuntu-24.04 runner that means wrk, prometheus/promtool, docker-registry and caddy;
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
  // The edge image is assembled from the local Caddy (lib/images/edge.ts); Debian has 2.6.2.
  { command: "caddy", apt: "caddy", onRunnerImage: false },
];

/**
 * Compose is a `docker compose` plugin on the runner and `docker-compose` (v1.29) here: suites
 * that need Compose list this pseudo-command, which either satisfies.
 */
export const COMPOSE = "docker-compose";

/**
 * What the delivery CLI's subcommands call, for the parity test's resolve-only steps. `up` is the
 * default subcommand; `--target=k8s|helm` adds kubectl/helm (see cliTools).
 */
export const CLI_TOOLS: Readonly<Record<string, readonly string[]>> = {
  version: ["git"],
  build: ["docker", "git"],
  publish: ["docker", "skopeo", "git"],
  integrate: ["caddy", "docker", COMPOSE, "skopeo"],
  promote: ["skopeo"],
  up: ["caddy", "docker", COMPOSE, "git"],
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
  // The edge (Caddy) is the Compose target's: a cluster's Service and Ingress do its job.
  const cluster = base.filter((t) => t !== COMPOSE && t !== "caddy");
  if (target === "k8s") return [...cluster, "kubectl"];
  if (target === "helm") return [...cluster, "kubectl", "helm"];
  return base;
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
