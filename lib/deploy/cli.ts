/**
 * The delivery CLI: a citty root whose subcommands live one per file in ./commands and load
 * lazily, so `--dry-run` or `history` never pays for the Compose target's imports.
 * Every failure ends here and becomes one exit code from ./errors.ts.
 */
import { type ArgsDef, type CommandDef, defineCommand, runCommand } from "citty";
import { upArgs } from "./args";
import { DeployError, ExitCode } from "./errors";
import { readFlags } from "./flags";
import { renderHelp } from "./help";

/** citty wants one command type; each module exports its own precisely typed command. */
const load = (p: Promise<{ default: unknown }>) => p.then((m) => m.default as CommandDef<ArgsDef>);

export const subCommands = {
  up: () => load(import("./commands/up")),
  down: () => load(import("./commands/down")),
  status: () => load(import("./commands/status")),
  history: () => load(import("./commands/history")),
  rollback: () => load(import("./commands/rollback")),
  build: () => load(import("./commands/build")),
  publish: () => load(import("./commands/publish")),
  integrate: () => load(import("./commands/integrate")),
  promote: () => load(import("./commands/promote")),
  version: () => load(import("../release/commands/version")),
} satisfies Record<string, () => Promise<CommandDef<ArgsDef>>>;

export type SubCommandName = keyof typeof subCommands;

export const root = defineCommand({
  meta: {
    name: "deploy.ts",
    description:
      "Deploy timekit's service1 and service2 with Docker Compose (default), Kubernetes manifests or Helm, gated on health, with automatic rollback. `up` is the default command.",
  },
  // The root parses `up`'s flags too: `bun deploy.ts --version_service1=1.0` runs `up`.
  args: upArgs,
  default: "up",
  subCommands,
});

/** Flags whose value may follow as the next word (`--registry R`), for finding the command name. */
function takesValue(token: string): boolean {
  const name = token
    .replace(/^-{1,2}/, "")
    .replace(/-/g, "_")
    .replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const def = (upArgs as ArgsDef)[name];
  return def !== undefined && def.type === "string";
}

/** Index of the subcommand name in argv, or -1 when none is given (then `up` runs). */
export function commandIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? "";
    if (token === "--") return -1;
    if (token.startsWith("-")) {
      if (!token.includes("=") && takesValue(token)) i++;
      continue;
    }
    return i;
  }
  return -1;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = levenshtein(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function printError(error: DeployError): void {
  process.stderr.write(`deploy: ${error.message}\n`);
  if (error.hint) process.stderr.write(`  fix: ${error.hint}\n`);
}

/** Runs the CLI and returns the exit code (the entry calls process.exit with it). */
export async function main(argv: string[]): Promise<number> {
  // Ctrl-C / SIGTERM go through process.exit so 'exit' handlers (the deploy lock) run.
  process.once("SIGINT", () => process.exit(130));
  process.once("SIGTERM", () => process.exit(143));

  const names = Object.keys(subCommands) as SubCommandName[];
  const at = commandIndex(argv);
  const named = at >= 0 ? argv[at] : undefined;
  if (named !== undefined && !names.includes(named as SubCommandName)) {
    const guess = closest(named, names);
    printError(
      new DeployError(
        `unknown command "${named}"${guess ? `; did you mean "${guess}"?` : ""}`,
        ExitCode.usage,
        `commands: ${names.join(", ")} (run with --help for details)`,
      ),
    );
    return ExitCode.usage;
  }
  const name: SubCommandName = (named as SubCommandName | undefined) ?? "up";
  // Flags may come before the command name: hand them all to the command.
  const rest = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 1)] : argv;
  const command = await subCommands[name]();

  if (rest.includes("--help") || rest.includes("-h")) {
    const usage =
      at >= 0 ? await renderHelp(command, root as CommandDef<ArgsDef>) : await renderHelp(root as CommandDef<ArgsDef>);
    process.stdout.write(`${usage}\n`);
    return ExitCode.ok;
  }

  try {
    // Values come from the strict parser (citty's own `args` would silently take unknown flags).
    const def = (typeof command.args === "function" ? await command.args() : await command.args) ?? {};
    const values = readFlags(def, rest, name);
    await runCommand(command, { rawArgs: rest, data: values });
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof DeployError) {
      printError(error);
      return error.exitCode;
    }
    if (error instanceof Error && error.name === "CLIError") {
      printError(new DeployError(error.message, ExitCode.usage, `run "bun deploy.ts ${name} --help" for the flags`));
      return ExitCode.usage;
    }
    process.stderr.write(
      `deploy: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return ExitCode.failed;
  }
}
