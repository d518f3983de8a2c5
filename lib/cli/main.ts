/**
 * The delivery CLI: find the command, parse its flags with the one parser, turn them into the
 * command's typed options, run it, and map every failure to one exit code (lib/errors.ts).
 *
 *   process.exit(await main(process.argv.slice(2)));          // deploy.ts
 *   const code = await main(["status", "--json"], captureIo);  // tests, in-process
 *
 * Flags may come before or after the command name; they are all the command's flags
 * (`bun deploy.ts --json status` is `status --json`). Without a command name, `up` runs.
 */
import { resolve } from "node:path";
import type { ArgsDef } from "citty";
import { paint } from "../colour";
import { InterruptGuard } from "../deploy/interrupt";
import { DeployError, ExitCode, UsageError } from "../errors";
import { type Io, processIo } from "../io";
import { REPO_ROOT } from "../paths";
import { SERVICES } from "../services";
import { closest } from "../suggest";
import type { Command } from "./command";
import build from "./commands/build";
import completion from "./commands/completion";
import down from "./commands/down";
import history from "./commands/history";
import integrate from "./commands/integrate";
import promote from "./commands/promote";
import publish from "./commands/publish";
import rollback from "./commands/rollback";
import status from "./commands/status";
import up from "./commands/up";
import version from "./commands/version";
import { completionScript, SHELLS, type Shell } from "./completion";
import { fileFlag, fileFlags } from "./deploy-file";
import { renderHelp } from "./help";
import { flagTable, parseFlags, takesNextWord } from "./parse";

// Each command's own types are checked where it is defined; here they are one list.
export const COMMANDS = [
  up,
  down,
  status,
  history,
  rollback,
  build,
  publish,
  integrate,
  promote,
  version,
  completion,
] as unknown as readonly Command[];
const DEFAULT_COMMAND = "up";
const PROGRAM = "deploy.ts";

/**
 * Ctrl-C and SIGTERM end the process through process.exit, so 'exit' handlers (the deploy lock's)
 * run; while a deploy guards its steps (lib/deploy/interrupt.ts) the guard decides instead.
 */
export function exitOnSignals(): void {
  process.on("SIGINT", () => {
    if (!InterruptGuard.active) process.exit(ExitCode.interrupted);
  });
  process.on("SIGTERM", () => {
    if (!InterruptGuard.active) process.exit(ExitCode.terminated);
  });
}

/** Every command's flags in one table, to know which flag before the command name takes the next word. */
function allFlags(commands: readonly Command[]) {
  return flagTable(Object.assign({}, ...commands.map((c) => c.args)) as ArgsDef);
}

/** Index of the command name in argv, or -1 when none is given. */
export function commandIndex(argv: readonly string[], commands: readonly Command[] = COMMANDS): number {
  const table = allFlags(commands);
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? "";
    if (token === "--") return -1;
    if (!token.startsWith("-") || token === "-") return i;
    if (takesNextWord(table, token)) i++;
  }
  return -1;
}

/** The `code` of a JSON error: what the exit code means, in a word. */
const ERROR_CODES: Record<number, string> = {
  [ExitCode.failed]: "failed",
  [ExitCode.usage]: "usage",
  [ExitCode.rolledBack]: "rolled-back",
  [ExitCode.restoreFailed]: "restore-failed",
  [ExitCode.interrupted]: "interrupted",
  [ExitCode.terminated]: "terminated",
};

/** `--json` anywhere on the line (as a switch, or `--json=true`): failures are JSON on stdout too. */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.some((token) => token === "--json" || token === "--json=true");
}

/**
 * Prints a failure on stderr (message, then `fix:`), and with `json` also as one JSON object on
 * stdout, `{"error":{"code","message","fix","exitCode"}}`, so a script reading stdout always gets
 * JSON. Returns the exit code.
 */
function printError(error: unknown, io: Io, prefix: string, json = false): number {
  const known = error instanceof DeployError;
  const exitCode = known ? error.exitCode : ExitCode.failed;
  const message = known
    ? error.message
    : `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  const fix = known ? error.fix : undefined;
  io.stderr(`${paint(io, "red", `${prefix}:`)} ${message}\n`);
  if (fix) io.stderr(`  fix: ${fix}\n`);
  if (json) {
    const code = known ? (ERROR_CODES[exitCode] ?? "failed") : "unexpected";
    io.stdout(`${JSON.stringify({ error: { code, message, fix: fix ?? null, exitCode } })}\n`);
  }
  return exitCode;
}

/** Parses `argv` for one command, builds its options and runs it; returns the exit code. */
export async function runCommand(
  command: Command,
  argv: readonly string[],
  io: Io,
  prefix = "deploy",
): Promise<number> {
  try {
    const file = "file" in command.args ? fileFlag(argv) : undefined;
    const fromFile = file === undefined ? { flags: [], problems: [] } : fileFlags(resolve(file), command.args, argv);
    if (fromFile.problems.length > 0) {
      throw new UsageError(fromFile.problems, 'fix the deploy file; docs/deploy.md, "The deploy file", shows its keys');
    }
    const { values, given, problems } = parseFlags(command.args, [...fromFile.flags, ...argv]);
    if (problems.length > 0) {
      throw new UsageError(problems, `run "bun ${PROGRAM} ${command.name} --help" for the flags`);
    }
    try {
      await command.run(command.options(values, io, given), io);
    } catch (error) {
      if (file === undefined || !(error instanceof UsageError)) throw error;
      throw new UsageError(error.problems, `values not on the command line came from the deploy file ${file}`);
    }
    return ExitCode.ok;
  } catch (error) {
    return printError(error, io, prefix, wantsJson(argv));
  }
}

/** `deploy.ts completion bash|zsh|fish`: the script on stdout. */
function printCompletion(rest: readonly string[], io: Io): number {
  const shell = rest[0];
  if (rest.length !== 1 || !(SHELLS as readonly string[]).includes(shell ?? "")) {
    return printError(
      new UsageError(
        `completion takes one shell: ${SHELLS.join(", ")}${rest.length ? ` (got ${rest.map((a) => JSON.stringify(a)).join(" ")})` : ""}`,
        "e.g. source <(bun deploy.ts completion bash)",
      ),
      io,
      "deploy",
    );
  }
  io.stdout(completionScript(shell as Shell, COMMANDS, DEFAULT_COMMAND));
  return ExitCode.ok;
}

/** `deploy.ts --version`: this checkout's commit, each service's version, and the Bun that runs it. */
async function printVersion(io: Io): Promise<number> {
  const { gitCommit } = await import("../images/metadata");
  const versions = await Promise.all(
    SERVICES.map(async (service) => {
      const manifest = await Bun.file(`${REPO_ROOT}/${service}/package.json`).json();
      return `${service} ${String(manifest.version)}`;
    }),
  );
  io.stdout(`timekit ${PROGRAM} ${await gitCommit(REPO_ROOT)} (${versions.join(", ")}; bun ${Bun.version})\n`);
  return ExitCode.ok;
}

export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  // `help [command]` is `[command] --help`.
  if (argv[0] === "help") return main([...argv.slice(1), "--help"], io);
  const at = commandIndex(argv);
  const named = at >= 0 ? argv[at] : undefined;
  // `--version` names this tool's version unless the command has a --version of its own (build, publish).
  if (
    argv.includes("--version") &&
    !("version" in (COMMANDS.find((c) => c.name === (named ?? DEFAULT_COMMAND))?.args ?? {}))
  ) {
    return printVersion(io);
  }
  const command = COMMANDS.find((c) => c.name === (named ?? DEFAULT_COMMAND));
  if (!command) {
    const names = COMMANDS.map((c) => c.name);
    const guess = closest(named ?? "", names);
    return printError(
      new DeployError(
        `unknown command "${named}"${guess ? `; did you mean "${guess}"?` : ""}`,
        ExitCode.usage,
        `commands: ${names.join(", ")} (run with --help for details)`,
      ),
      io,
      "deploy",
      wantsJson(argv),
    );
  }
  const rest = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 1)] : [...argv];
  if (command.name === "completion" && !rest.includes("--help")) return printCompletion(rest, io);
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(
      `${renderHelp(
        named
          ? { name: `${PROGRAM} ${command.name}`, description: command.description, args: command.args }
          : {
              name: PROGRAM,
              description:
                "Deploy timekit's service1 and service2 with Docker Compose (default), Kubernetes manifests or Helm, gated on health, with automatic rollback. `up` is the default command.",
              args: command.args,
              commands: COMMANDS,
            },
      )}\n`,
    );
    return ExitCode.ok;
  }
  return runCommand(command, rest, io);
}
