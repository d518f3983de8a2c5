/**
 * Installs the commands the test suites need and a machine lacks (lib/ci/tools.ts, INSTALLED_TOOLS),
 * with apt. The one install step of `.ci/run` and of every workflow job that runs suites.
 *
 *   bun scripts/ci/install-tools.ts [--for=<test path filter>]… [--cli=<deploy.ts subcommand>]… [--check] [--dry-run]
 *
 * A tool is ready when its command is on PATH, or its package is installed and ships that
 * command. Only packages of tools that are not ready are installed, so a second run, or a run on
 * the ubuntu-24.04 runner (which has docker, skopeo, shellcheck, yamllint), installs only what is
 * missing (wrk, prometheus, docker-registry, caddy). Services that packages would start (prometheus,
 * docker-registry, caddy) are kept from starting. Uses sudo when not root. Needs no `bun install`.
 *
 * --for limits the tools to those the test files matching the filters need (as `bun test <filter>`
 * selects them; SUITE_TOOLS in lib/ci/suites.ts), so a job that runs one suite installs only what that suite needs.
 * --cli adds what a `bun deploy.ts <subcommand>` needs (CLI_TOOLS), for a job that deploys without
 * running suites; with only --cli, nothing else is installed.
 * --check reports and installs nothing; --dry-run prints the commands it would run.
 * Exit codes: 0 every tool ready, 1 a tool is missing or the install failed, 2 usage error.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { toolsFor } from "../../lib/ci/suites";
import { type InstalledTool, resolves } from "../../lib/ci/tools";

const COMMAND = "install-tools";
const USAGE =
  "usage: bun scripts/ci/install-tools.ts [--for=<test path filter>]… [--cli=<deploy.ts subcommand>]… [--check] [--dry-run]";
const REPO_ROOT = resolve(import.meta.dir, "..", "..");
/** Debian's hook that tells maintainer scripts not to start services (exit 101: "action forbidden"). */
const POLICY_RC = "/usr/sbin/policy-rc.d";

export interface ToolState {
  tool: InstalledTool;
  /** Where the command is, or null when it is not ready. */
  path: string | null;
}

function run(argv: string[], quiet = false): { exitCode: number; stdout: string; stderr: string } {
  const result = Bun.spawnSync(argv, {
    stdout: quiet ? "pipe" : "inherit",
    stderr: quiet ? "pipe" : "inherit",
    env: { ...Bun.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return {
    exitCode: result.exitCode ?? 1,
    stdout: result.stdout?.toString() ?? "",
    stderr: result.stderr?.toString() ?? "",
  };
}

/** The executable an installed package ships for `command`, or null. */
function packagedExecutable(tool: InstalledTool): string | null {
  if (Bun.which("dpkg-query") === null) return null;
  // dpkg-query's own format syntax, not a template placeholder.
  const format = "-f=$" + "{Status}";
  const status = run(["dpkg-query", "-W", format, tool.apt], true);
  if (status.exitCode !== 0 || !status.stdout.includes("install ok installed")) return null;
  const files = run(["dpkg-query", "-L", tool.apt], true).stdout.split("\n");
  return (
    files.find((file) => /\/s?bin\/[^/]+$/.test(file) && file.endsWith(`/${tool.command}`) && existsSync(file)) ?? null
  );
}

export function toolState(tool: InstalledTool, path = Bun.env.PATH ?? ""): ToolState {
  if (resolves(tool.command, path)) {
    return { tool, path: Bun.which(tool.command, { PATH: path }) ?? "docker compose (CLI plugin)" };
  }
  return { tool, path: packagedExecutable(tool) };
}

/** The apt packages to install for the tools that are not ready, each once, in declaration order. */
export function packagesToInstall(states: readonly ToolState[]): string[] {
  return [...new Set(states.filter((s) => s.path === null).map((s) => s.tool.apt))];
}

function privileged(argv: string[]): string[] {
  return process.getuid?.() === 0 ? argv : ["sudo", "-n", ...argv];
}

/** Installs `packages` with no service started; returns false when apt failed. */
function aptInstall(packages: string[], dryRun: boolean): boolean {
  const ownPolicy = !existsSync(POLICY_RC);
  const steps = [
    ...(ownPolicy
      ? [privileged(["sh", "-c", `printf '#!/bin/sh\\nexit 101\\n' > ${POLICY_RC} && chmod 755 ${POLICY_RC}`])]
      : []),
    privileged(["apt-get", "update", "-qq"]),
    privileged(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...packages]),
  ];
  if (dryRun) {
    for (const argv of steps) console.log(`${COMMAND}: would run: ${argv.join(" ")}`);
    return true;
  }
  try {
    for (const argv of steps) {
      console.log(`${COMMAND}: ${argv.join(" ")}`);
      if (run(argv).exitCode !== 0) return false;
    }
    return true;
  } finally {
    if (ownPolicy) run(privileged(["rm", "-f", POLICY_RC]));
  }
}

function report(states: readonly ToolState[]): void {
  for (const { tool, path } of states) {
    console.log(`${COMMAND}: ${tool.command}: ${path ?? "MISSING"} (apt ${tool.apt})`);
  }
}

function main(rawArgs: string[]): number {
  let values: { check?: boolean; "dry-run"?: boolean; for?: string[]; cli?: string[] };
  let tools: InstalledTool[];
  try {
    ({ values } = parseArgs({
      args: rawArgs,
      options: {
        check: { type: "boolean" },
        "dry-run": { type: "boolean" },
        for: { type: "string", multiple: true },
        cli: { type: "string", multiple: true },
      },
      strict: true,
      allowPositionals: false,
    }));
    tools = toolsFor(values.for ?? [], REPO_ROOT, values.cli ?? []);
  } catch (error) {
    console.error(`${COMMAND}: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (tools.length === 0) {
    console.log(`${COMMAND}: the selected test files need none of the installable tools`);
    return 0;
  }
  let states = tools.map((tool) => toolState(tool));
  const packages = packagesToInstall(states);
  if (packages.length === 0) {
    report(states);
    console.log(`${COMMAND}: all ${states.length} tools ready, nothing to install`);
    return 0;
  }
  if (values.check) {
    report(states);
    console.error(`${COMMAND}: missing; install with: apt-get install ${packages.join(" ")}`);
    return 1;
  }
  if (Bun.which("apt-get") === null) {
    report(states);
    console.error(`${COMMAND}: apt-get is not available (Debian/Ubuntu only); install yourself: ${packages.join(" ")}`);
    return 1;
  }
  if (!aptInstall(packages, values["dry-run"] === true)) {
    console.error(`${COMMAND}: apt-get failed installing ${packages.join(" ")}`);
    return 1;
  }
  if (values["dry-run"]) return 0;
  states = tools.map((tool) => toolState(tool));
  report(states);
  const missing = states.filter((s) => s.path === null).map((s) => s.tool.command);
  if (missing.length > 0) {
    console.error(`${COMMAND}: still missing after install: ${missing.join(", ")}`);
    return 1;
  }
  console.log(`${COMMAND}: installed ${packages.join(" ")}; all ${states.length} tools ready`);
  return 0;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
