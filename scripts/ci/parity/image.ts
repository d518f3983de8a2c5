/**
 * The runner image's PATH, modelled here: a directory of symlinks to this machine's copies of the
 * commands GitHub's ubuntu-24.04 image provides (lib/ci/tools.ts), and nothing else. An image
 * command this machine lacks (kind, helm, sudo) becomes a stub that fails loudly when run, so
 * resolve-only checks see it and a real run cannot pass by accident.
 */
import { existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { INSTALLED_TOOLS, RUNNER_BASE_PACKAGES, RUNNER_IMAGE_TOOLS } from "../../../lib/ci/tools";

/**
 * Image commands played by a different local command: the image's `docker compose` plugin by
 * Debian's docker-compose (Compose v1.29; no v2 plugin installs here).
 */
export const STAND_INS: Readonly<Record<string, string>> = { "docker-compose": "docker compose (Compose v2 plugin)" };

/** Never on the image: a job has these only if it installs them. */
const NOT_ON_IMAGE = new Set(["bun", "bunx", ...INSTALLED_TOOLS.filter((t) => !t.onRunnerImage).map((t) => t.command)]);

export interface RunnerImage {
  bin: string;
  /** Image commands this machine lacks, offered as failing stubs. */
  stubs: string[];
}

function executablesOf(pkg: string): string[] {
  const listed = Bun.spawnSync(["dpkg-query", "-L", pkg], { stdout: "pipe", stderr: "pipe" });
  if (listed.exitCode !== 0) return [];
  return listed.stdout
    .toString()
    .split("\n")
    .filter((file) => /^\/(usr\/)?s?bin\/[^/]+$/.test(file))
    .filter((file) => {
      try {
        return (statSync(file).mode & 0o111) !== 0;
      } catch {
        return false;
      }
    });
}

function link(bin: string, name: string, target: string): void {
  const at = join(bin, name);
  if (!existsSync(at)) symlinkSync(target, at);
}

/** Builds the image's bin directory under `dir` (idempotent). */
export function prepareRunnerImage(dir: string): RunnerImage {
  const bin = join(dir, "image-bin");
  mkdirSync(bin, { recursive: true });
  for (const pkg of RUNNER_BASE_PACKAGES) {
    for (const file of executablesOf(pkg)) {
      if (!NOT_ON_IMAGE.has(basename(file))) link(bin, basename(file), file);
    }
  }
  const stubs: string[] = [];
  for (const tool of [...RUNNER_IMAGE_TOOLS, ...Object.keys(STAND_INS)]) {
    const local = Bun.which(tool);
    if (local) {
      link(bin, tool, local);
      continue;
    }
    stubs.push(tool);
    const stub = join(bin, tool);
    if (!existsSync(stub)) {
      writeFileSync(
        stub,
        `#!/bin/sh\necho "parity: ${tool} is on the ubuntu-24.04 runner image but not on this machine" >&2\nexit 127\n`,
        { mode: 0o755 },
      );
    }
  }
  return { bin, stubs: stubs.sort() };
}
