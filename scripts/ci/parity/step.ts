/**
 * One `run:` step: every command its script names must be on the runner's PATH; then it runs
 * under the workflow's shell with GitHub's command files, or, after a cluster would exist,
 * resolve-only (commands.ts).
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toolsFor } from "../../../lib/ci/suites";
import { type InstalledTool, resolves } from "../../../lib/ci/tools";
import type { JobState } from "./actions";
import { externalCommands, interception, type ScriptCommands, scriptCommands } from "./commands";
import { resolveNeeds } from "./intercept";
import type { JobRun } from "./job";
import { parseCommandFile, type StepMode, shellArgv, type WorkflowStep } from "./model";

const INSTALL_TOOLS_SCRIPT = "scripts/ci/install-tools.ts";
/** Generous hang guard for one step (a cold `bun install` on a busy machine). */
const STEP_TIMEOUT_MS = 10 * 60_000;

/** The tools a step's `bun scripts/ci/install-tools.ts [--for=…] [--cli=…]` call installs (none for --check/--dry-run). */
function installedByScript(parsed: ScriptCommands, workspace: string): InstalledTool[] {
  return parsed.commands.flatMap((c) => {
    if (c.name !== "bun" || c.args[0] !== INSTALL_TOOLS_SCRIPT) return [];
    if (c.args.some((a) => a === "--check" || a === "--dry-run")) return [];
    const filters = c.args.filter((a) => a.startsWith("--for=")).map((a) => a.slice("--for=".length));
    const subcommands = c.args.filter((a) => a.startsWith("--cli=")).map((a) => a.slice("--cli=".length));
    return toolsFor(filters, workspace, subcommands);
  });
}

export interface StepRun {
  run: JobRun;
  step: WorkflowStep;
  script: string;
  stepEnv: Record<string, string>;
  state: JobState;
  path: string;
  workspace: string;
  runnerTemp: string;
  index: number;
  installedBin: string;
}

interface StepOutcome {
  mode: StepMode;
  ok: boolean;
  detail: string;
  outputs: Record<string, string>;
}

export async function runStep(s: StepRun): Promise<StepOutcome> {
  const { run, step, state } = s;
  const fail = (detail: string, mode: StepMode = "ran"): StepOutcome => ({ mode, ok: false, detail, outputs: {} });
  let parsed: ScriptCommands;
  try {
    parsed = scriptCommands(s.script);
  } catch (error) {
    return fail((error as Error).message);
  }
  const shell = step.shell ?? run.job.defaults?.run?.shell ?? run.workflow.defaults?.run?.shell;
  const scriptFile = join(s.runnerTemp, `step-${s.index + 1}.sh`);
  let argv: string[];
  try {
    argv = shellArgv(shell, scriptFile);
  } catch (error) {
    return fail((error as Error).message);
  }
  const commands = [argv[0] as string, ...externalCommands(parsed)];
  const missing = commands.filter((command) => !resolves(command, s.path));
  if (missing.length > 0) return fail(`command not found on the runner's PATH: ${[...new Set(missing)].join(", ")}`);

  if (state.cluster) {
    // Needs a live cluster: check every call's tools, run nothing.
    const needed: string[] = [];
    for (const command of parsed.commands) {
      let intercepted: ReturnType<typeof interception>;
      try {
        intercepted = interception([command.name, ...command.args], s.workspace);
      } catch (error) {
        return fail((error as Error).message, "resolve-only");
      }
      if (!intercepted) continue;
      const { missing: absent, found } = resolveNeeds(intercepted, s.path);
      if (absent.length > 0) {
        return fail(
          absent.map((m) => `command not found: ${m.tool} (needed by ${m.neededBy.join(", ")})`).join("; "),
          "resolve-only",
        );
      }
      needed.push(...found);
    }
    const all = [...new Set([...commands.slice(1), ...needed])].sort();
    return { mode: "resolve-only", ok: true, detail: `needs a cluster; on PATH: ${all.join(", ")}`, outputs: {} };
  }

  writeFileSync(scriptFile, s.script);
  const files = { output: "output", env: "env", path: "path", summary: "summary" } as const;
  const commandFiles = Object.fromEntries(
    Object.entries(files).map(([key, name]) => {
      const file = join(s.runnerTemp, `${name}-${s.index + 1}`);
      writeFileSync(file, "");
      return [key, file];
    }),
  ) as Record<keyof typeof files, string>;
  const cwd = step["working-directory"] ? join(s.workspace, step["working-directory"]) : s.workspace;
  if (!existsSync(cwd)) mkdirSync(cwd, { recursive: true });
  const env = {
    ...run.baseEnv,
    ...Object.fromEntries(Object.entries(run.contexts.env as Record<string, string>)),
    ...s.stepEnv,
    PATH: s.path,
    GITHUB_WORKSPACE: s.workspace,
    GITHUB_JOB: run.id,
    RUNNER_TEMP: s.runnerTemp,
    GITHUB_OUTPUT: commandFiles.output,
    GITHUB_ENV: commandFiles.env,
    GITHUB_PATH: commandFiles.path,
    GITHUB_STEP_SUMMARY: commandFiles.summary,
  };
  const logStart = existsSync(run.interceptLog) ? readFileSync(run.interceptLog, "utf8").length : 0;
  const child = Bun.spawn(argv, {
    cwd,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: STEP_TIMEOUT_MS,
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  const transcript = join(s.runnerTemp, `step-${s.index + 1}.log`);
  writeFileSync(transcript, `$ ${argv.join(" ")}\n${stdout}${stderr}`);
  const intercepted = existsSync(run.interceptLog)
    ? readFileSync(run.interceptLog, "utf8").slice(logStart).trim().split("\n").filter(Boolean)
    : [];
  const mode: StepMode = intercepted.some((line) => line.startsWith("resolve-only")) ? "resolve-only" : "ran";
  if (exitCode !== 0) {
    const tail = `${stdout}${stderr}`.trim().split("\n").slice(-12).join("\n");
    const reason = exitCode === 127 ? "a command was not found" : `exit ${exitCode}`;
    return fail(`${reason}; last lines:\n${tail}`, mode);
  }
  let outputs: Record<string, string>;
  try {
    outputs = parseCommandFile(readFileSync(commandFiles.output, "utf8"));
    Object.assign(state.env, parseCommandFile(readFileSync(commandFiles.env, "utf8")));
    const added = readFileSync(commandFiles.path, "utf8").split("\n").filter(Boolean).reverse();
    state.path.unshift(...added);
  } catch (error) {
    return fail(`bad GITHUB_OUTPUT/GITHUB_ENV: ${(error as Error).message}`);
  }
  for (const tool of installedByScript(parsed, s.workspace)) {
    const local = Bun.which(tool.command);
    if (local && !existsSync(join(s.installedBin, tool.command)))
      symlinkSync(local, join(s.installedBin, tool.command));
  }

  const outputNames = Object.keys(outputs);
  const detail = [
    ...intercepted,
    ...(outputNames.length > 0
      ? [`outputs: ${outputNames.map((n) => `${n}=${JSON.stringify(outputs[n])}`).join(" ")}`]
      : []),
  ].join("; ");
  return { mode, ok: true, detail, outputs };
}
