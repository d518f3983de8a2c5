/**
 * The one place the deploy CLI reads flags: the team's strict parser (lib/cli/strict-args.ts)
 * rejects unknown flags with a suggestion and accepts `--a_b`, `--a-b` and `--aB` alike.
 * Its errors become this CLI's UsageError (exit 2).
 */
import type { ArgsDef } from "citty";
import { parseStrictArgs, UsageError as StrictUsageError } from "../cli/strict-args";
import { UsageError } from "./errors";

export type FlagValues = Record<string, unknown>;

export function readFlags(def: ArgsDef, rawArgs: readonly string[], command: string): FlagValues {
  try {
    return parseStrictArgs(def, rawArgs) as FlagValues;
  } catch (error) {
    if (error instanceof StrictUsageError) {
      throw new UsageError(error.message, `run "bun deploy.ts ${command} --help" for the flags`);
    }
    throw error;
  }
}

/** A string flag's value, or undefined when it was not given. */
export function flagString(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}
