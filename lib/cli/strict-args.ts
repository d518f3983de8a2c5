/**
 * What the standalone scripts (scripts/*.ts) use: the one parser (./parse.ts) and printing its
 * usage errors. deploy.ts commands go through ./main.ts instead.
 */
import type { UsageError } from "../errors";

export { UsageError } from "../errors";
export { parseStrictArgs } from "./parse";

/** Prints a usage error as `<command>: <message>` plus how to get help, and exits with its code (2). */
export function exitWithUsageError(error: UsageError, command: string, usage?: string): never {
  console.error(`${command}: ${error.message}`);
  console.error(usage ?? `run "${command} --help" for usage`);
  process.exit(error.exitCode);
}
