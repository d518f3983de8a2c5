/**
 * A deploy.ts command: its flags in citty's ArgsDef format (parsed by ./parse.ts), the edge that
 * turns parsed values into one typed options object (every problem at once, exit 2), and the run
 * that works on those options alone. Nothing below lib/cli/ sees a flag name or an untyped record.
 */
import type { ArgsDef } from "citty";
import type { Io } from "../io";
import type { Values } from "./parse";

export interface Command<A extends ArgsDef = ArgsDef, O = unknown> {
  name: string;
  description: string;
  args: A;
  /**
   * Checks every value; throws UsageError listing all problems. Runs no external program.
   * `given` names the flags the command line (or deploy file) set, switches included.
   */
  options(values: Values<A>, io: Io, given: ReadonlySet<string>): O;
  /** Exit code 0 unless it throws; a DeployError carries its own. */
  run(options: O, io: Io): Promise<void>;
}

/** A command with its options type inferred from its pieces. */
export function defineCommand<const A extends ArgsDef, O>(command: Command<A, O>): Command<A, O> {
  return command;
}
