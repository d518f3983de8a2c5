/**
 * Entry point of the parity test's `bun` and `git push` shims: runs the command for real, or in
 * resolve-only mode checks that every command it needs is on PATH (scripts/ci/parity/commands.ts).
 *
 *   bun scripts/ci/parity/intercept.ts --log=FILE --real=PATH -- <bun|git> [args…]
 *
 * Exit codes: the real command's; 0 resolved; 127 a needed command is missing; 1 a command that
 * could not run (e.g. `bun test` selecting no test file).
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { delimiter, dirname } from "node:path";
import { resolves } from "../../../lib/ci/tools";
import { type Interception, interception } from "./commands";

/** This file: the shims run it with bun. */
export const INTERCEPT_SCRIPT = import.meta.path;

export interface Resolution {
  missing: Array<{ tool: string; neededBy: string[] }>;
  found: string[];
}

export function resolveNeeds(intercepted: Interception, path: string): Resolution {
  const searched = [...(intercepted.extraPath ?? []), path].join(delimiter);
  const missing: Resolution["missing"] = [];
  const found: string[] = [];
  for (const [tool, neededBy] of intercepted.needs) {
    if (resolves(tool, searched)) found.push(tool);
    else missing.push({ tool, neededBy: [...new Set(neededBy)] });
  }
  return { missing, found: found.sort() };
}

function main(argv: string[]): number {
  const separator = argv.indexOf("--");
  const options = Object.fromEntries(
    argv.slice(0, separator).map((arg) => arg.replace(/^--/, "").split("=", 2) as [string, string]),
  );
  const [name, ...args] = argv.slice(separator + 1);
  const log = (line: string) => {
    console.error(`parity: ${line}`);
    if (options.log) appendFileSync(options.log, `${line}\n`);
  };
  if (!name || !options.real) {
    console.error("usage: bun scripts/ci/parity/intercept.ts --log=FILE --real=PATH -- <command> [args…]");
    return 2;
  }
  let intercepted: Interception | null;
  try {
    intercepted = interception([name, ...args], process.cwd());
  } catch (error) {
    log(`cannot run ${name} ${args.join(" ")}: ${(error as Error).message}`);
    return 1;
  }
  if (intercepted === null) {
    const child = Bun.spawnSync([options.real, ...args], { stdio: ["inherit", "inherit", "inherit"] });
    return child.exitCode ?? 1;
  }
  const { missing, found } = resolveNeeds(intercepted, Bun.env.PATH ?? "");
  for (const { tool, neededBy } of missing) {
    log(`command not found: ${tool} (needed by ${neededBy.join(", ")}) in resolve-only ${intercepted.what}`);
  }
  if (missing.length > 0) return 127;
  for (const file of intercepted.writes) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `written in place of the output of: ${intercepted.what}\n`);
  }
  if (intercepted.stdout) process.stdout.write(intercepted.stdout);
  log(`resolve-only ${intercepted.what}: ${found.join(", ")} on PATH`);
  return 0;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
