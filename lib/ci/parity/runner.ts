/**
 * The runner-parity test's engine: runs a workflow's jobs the way GitHub's ubuntu-24.04 runner
 * would, here. Each job gets a fresh clone, `CI=true`, GitHub's variables and command files
 * (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH), `${{ }}` evaluated by GitHub's expression evaluator,
 * and a PATH holding only the runner image's commands plus what the job installs itself
 * (setup-bun's bun, scripts/ci/install-tools.ts's tools). Steps run for real, except the calls
 * lib/ci/parity/commands.ts makes resolve-only. It reports every missing command, every output
 * read before it was set, and every step that fails.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { type InstalledTool, resolves, toolsFor } from "../tools";
import { type JobState, shimDir, simulateAction, writeScript } from "./actions";
import { externalCommands, interception, type ScriptCommands, scriptCommands } from "./commands";
import { type Contexts, condition, interpolate, type Json, outputReads, type Status } from "./expressions";
import type { RunnerImage } from "./image";
import { resolveNeeds } from "./intercept";

const INTERCEPT = join(import.meta.dir, "intercept.ts");
const INSTALL_TOOLS_SCRIPT = "scripts/ci/install-tools.ts";
/** Generous hang guard for one step (a cold `bun install` on a busy machine). */
const STEP_TIMEOUT_MS = 10 * 60_000;
/** Variables of this machine a step needs to reach the npm registry and the Docker engine. */
const PASSED_THROUGH = ["HOME", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"];
const PASSED_THROUGH_LOWER = ["http_proxy", "https_proxy", "no_proxy", "DOCKER_HOST"];

export interface EventSpec {
  name: string;
  ref: string;
  payload: Record<string, Json>;
  inputs?: Record<string, Json>;
}

export interface ParityOptions {
  /** Git repository whose HEAD every job checks out. */
  source: string;
  /** Workflow file name, for reports. */
  file: string;
  text: string;
  event: EventSpec;
  image: RunnerImage;
  /** Scratch directory for this run (clones, runner temp, command files). */
  workDir: string;
  /** Run only these jobs; the others must not be needed by them. */
  jobs?: string[];
  /** Owner name as GitHub spells it (mixed case exercises `${GITHUB_REPOSITORY_OWNER,,}`). */
  owner?: string;
  onLine?: (line: string) => void;
}

export type StepMode = "ran" | "resolve-only" | "simulated" | "skipped";

export interface StepRecord {
  label: string;
  mode: StepMode;
  ok: boolean;
  detail: string;
}

export interface JobRecord {
  id: string;
  leg: string;
  result: "success" | "failure" | "skipped";
  steps: StepRecord[];
  outputs: Record<string, string>;
}

export interface ParityReport {
  file: string;
  jobs: JobRecord[];
  problems: string[];
}

interface WorkflowStep {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  if?: Json;
  env?: Record<string, Json>;
  with?: Record<string, Json>;
  "working-directory"?: string;
  "continue-on-error"?: Json;
}

interface WorkflowJob {
  name?: string;
  needs?: string | string[];
  if?: Json;
  "runs-on"?: Json;
  env?: Record<string, Json>;
  outputs?: Record<string, Json>;
  strategy?: { matrix?: Json };
  defaults?: { run?: { shell?: string; "working-directory"?: string } };
  steps?: WorkflowStep[];
  uses?: string;
}

interface Workflow {
  env?: Record<string, Json>;
  defaults?: { run?: { shell?: string } };
  jobs: Record<string, WorkflowJob>;
}

interface JobOutcome {
  result: JobRecord["result"];
  outputs: Record<string, string>;
}

/** Parses `name=value` and `name<<DELIMITER … DELIMITER` lines (GITHUB_OUTPUT, GITHUB_ENV). */
export function parseCommandFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === "") continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    if (heredoc && !line.slice(0, line.indexOf("<<")).includes("=")) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const end = lines.indexOf(delimiter, i + 1);
      if (end < 0) throw new Error(`no closing ${delimiter} for ${name}`);
      values[name] = lines.slice(i + 1, end).join("\n");
      i = end;
      continue;
    }
    const equals = line.indexOf("=");
    if (equals <= 0) throw new Error(`malformed line ${JSON.stringify(line)} (expected name=value or name<<EOF)`);
    values[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return values;
}

/** GitHub's argv for a `shell:` value (bash: `--noprofile --norc -eo pipefail`; none: `bash -e`). */
export function shellArgv(shell: string | undefined, scriptFile: string): string[] {
  if (shell === undefined) return ["bash", "-e", scriptFile];
  if (shell === "bash") return ["bash", "--noprofile", "--norc", "-eo", "pipefail", scriptFile];
  if (shell === "sh") return ["sh", "-e", scriptFile];
  if (!shell.includes("{0}")) throw new Error(`shell ${JSON.stringify(shell)} is not bash, sh or a command with {0}`);
  return shell.split(/\s+/).map((word) => (word === "{0}" ? scriptFile : word));
}

function matrixLegs(matrix: Json): Array<Record<string, Json>> {
  if (matrix === null || matrix === undefined) return [{}];
  if (typeof matrix !== "object" || Array.isArray(matrix))
    throw new Error(`matrix must be a mapping, got ${JSON.stringify(matrix)}`);
  let legs: Array<Record<string, Json>> = [{}];
  for (const [key, values] of Object.entries(matrix)) {
    if (key === "include" || key === "exclude") throw new Error(`matrix ${key} is not modelled by the parity test`);
    if (!Array.isArray(values) || values.length === 0)
      throw new Error(`matrix.${key} must be a non-empty list, got ${JSON.stringify(values)}`);
    legs = legs.flatMap((leg) => values.map((value) => ({ ...leg, [key]: value })));
  }
  return legs;
}

function topologicalOrder(jobs: Record<string, WorkflowJob>): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (id: string) => {
    if (order.includes(id)) return;
    if (visiting.has(id)) throw new Error(`jobs form a cycle through ${id}`);
    const job = jobs[id];
    if (!job) throw new Error(`a job needs ${id}, which does not exist`);
    visiting.add(id);
    for (const need of [job.needs ?? []].flat()) visit(need);
    visiting.delete(id);
    order.push(id);
  };
  for (const id of Object.keys(jobs)) visit(id);
  return order;
}

function headOf(source: string): string {
  const result = Bun.spawnSync(["git", "-C", source, "rev-parse", "HEAD"], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${source} is not a git repository: ${result.stderr}`);
  return result.stdout.toString().trim();
}

export async function runWorkflow(options: ParityOptions): Promise<ParityReport> {
  const workflow = parse(options.text) as Workflow;
  const problems: string[] = [];
  const records: JobRecord[] = [];
  const outcomes: Record<string, JobOutcome> = {};
  const sha = headOf(options.source);
  const owner = options.owner ?? "Timekit-Org";
  const say = options.onLine ?? (() => {});
  mkdirSync(options.workDir, { recursive: true });
  const eventFile = join(options.workDir, "event.json");
  writeFileSync(eventFile, JSON.stringify(options.event.payload));
  const interceptLog = join(options.workDir, "intercepted.log");
  const gitShim = shimDir(options.workDir, "git-shim");
  const realGit = Bun.which("git") as string;
  writeScript(
    join(gitShim, "git"),
    `#!/bin/bash\nif [ "\${1:-}" = push ]; then exec ${process.execPath} ${INTERCEPT} --log=${interceptLog} --real=${realGit} -- git "$@"; fi\nexec ${realGit} "$@"\n`,
  );

  const github = {
    event_name: options.event.name,
    event: options.event.payload,
    ref: options.event.ref,
    ref_name: options.event.ref.replace(/^refs\/(heads|tags)\//, ""),
    sha,
    repository: `${owner}/timekit`,
    repository_owner: owner,
    actor: "parity-bot",
    run_id: "1000001",
    run_number: "7",
    run_attempt: "1",
    server_url: "https://github.com",
    api_url: "https://api.github.com",
    workflow: options.file,
    token: "parity-github-token",
  };
  const baseEnv: Record<string, string> = {};
  for (const name of [...PASSED_THROUGH, ...PASSED_THROUGH_LOWER]) {
    const value = Bun.env[name];
    if (value !== undefined) baseEnv[name] = value;
  }
  Object.assign(baseEnv, {
    LANG: "C.UTF-8",
    CI: "true",
    GITHUB_ACTIONS: "true",
    GITHUB_EVENT_NAME: github.event_name,
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_REF: github.ref,
    GITHUB_REF_NAME: github.ref_name,
    GITHUB_SHA: sha,
    GITHUB_REPOSITORY: github.repository,
    GITHUB_REPOSITORY_OWNER: owner,
    GITHUB_ACTOR: github.actor,
    GITHUB_RUN_ID: github.run_id,
    GITHUB_RUN_NUMBER: github.run_number,
    GITHUB_RUN_ATTEMPT: github.run_attempt,
    GITHUB_SERVER_URL: github.server_url,
    GITHUB_API_URL: github.api_url,
    GITHUB_WORKFLOW: options.file,
    RUNNER_OS: "Linux",
    RUNNER_ARCH: "X64",
    ImageOS: "ubuntu24",
  });

  let order: string[];
  try {
    order = topologicalOrder(workflow.jobs ?? {});
  } catch (error) {
    return { file: options.file, jobs: [], problems: [`${options.file}: ${(error as Error).message}`] };
  }
  const selected = options.jobs ?? order;
  for (const id of order) {
    if (!selected.includes(id)) continue;
    const job = workflow.jobs[id] as WorkflowJob;
    const where = `${options.file} › ${id}`;
    const needs = [job.needs ?? []].flat();
    const unrun = needs.filter((need) => !outcomes[need]);
    if (unrun.length > 0) {
      problems.push(`${where}: needs ${unrun.join(", ")}, which this run does not include`);
      continue;
    }
    const needsContext = Object.fromEntries(
      needs.map((need) => [
        need,
        { result: outcomes[need]?.result ?? "skipped", outputs: outcomes[need]?.outputs ?? {} },
      ]),
    );
    const contexts: Contexts = {
      github: { ...github, job: id, workspace: "" },
      env: {},
      vars: {},
      secrets: { GITHUB_TOKEN: "parity-github-token" },
      inputs: options.event.inputs ?? {},
      needs: needsContext,
      runner: { os: "Linux", arch: "X64", name: "GitHub Actions 1", environment: "github-hosted", temp: "" },
      job: {},
      strategy: { "fail-fast": true },
      matrix: {},
      steps: {},
    };
    const jobStatus: Status = { failed: needs.some((need) => outcomes[need]?.result !== "success") };
    const check = (value: Json | undefined, at: string) =>
      checkReads(value, contexts, workflow, needs, `${where}${at}`, problems);
    check(job.if, " if");
    if (job.uses) {
      problems.push(`${where}: calls a reusable workflow (${job.uses}), which the parity test does not model`);
      continue;
    }
    if (!condition(job.if, contexts, jobStatus)) {
      say(`${where}: skipped (if: ${String(job.if)})`);
      outcomes[id] = { result: "skipped", outputs: {} };
      records.push({ id, leg: "", result: "skipped", steps: [], outputs: {} });
      continue;
    }
    if (job["runs-on"] !== "ubuntu-24.04") {
      problems.push(`${where}: runs-on ${JSON.stringify(job["runs-on"])}; the parity test models ubuntu-24.04 only`);
    }
    let legs: Array<Record<string, Json>>;
    try {
      legs = matrixLegs(interpolate(job.strategy?.matrix ?? null, contexts));
    } catch (error) {
      problems.push(`${where}: ${(error as Error).message}`);
      outcomes[id] = { result: "failure", outputs: {} };
      continue;
    }
    let result: JobRecord["result"] = "success";
    let outputs: Record<string, string> = {};
    for (const [index, matrix] of legs.entries()) {
      const leg = Object.values(matrix).map(String).join(", ");
      const record = await runJob({
        id,
        leg,
        job,
        workflow,
        contexts: { ...contexts, matrix },
        options,
        baseEnv,
        sha,
        gitShim,
        interceptLog,
        dir: join(options.workDir, `${id}-${index}`),
        where: leg ? `${where} (${leg})` : where,
        problems,
        needs,
      });
      records.push(record);
      if (record.result === "failure") result = "failure";
      outputs = record.outputs;
    }
    outcomes[id] = { result, outputs };
  }
  return { file: options.file, jobs: records, problems };
}

/** Reports each `steps.X.outputs.Y` / `needs.X.outputs.Y` in `value` that nothing has set. */
function checkReads(
  value: Json | undefined,
  contexts: Contexts,
  workflow: Workflow,
  needs: string[],
  where: string,
  problems: string[],
): void {
  for (const read of outputReads(value)) {
    const name = `${read.context}.${read.id}.outputs.${read.output}`;
    if (read.context === "needs") {
      if (!needs.includes(read.id)) {
        problems.push(`${where}: reads ${name}, but the job does not need ${read.id}`);
        continue;
      }
      if (workflow.jobs[read.id]?.outputs?.[read.output] === undefined) {
        problems.push(`${where}: reads ${name}, which job ${read.id} does not declare`);
        continue;
      }
    }
    const scope = (contexts[read.context] as Record<string, { outputs?: Record<string, Json> }>)[read.id];
    if (scope?.outputs?.[read.output] === undefined) problems.push(`${where}: reads ${name}, which was never set`);
  }
}

interface JobRun {
  id: string;
  leg: string;
  job: WorkflowJob;
  workflow: Workflow;
  contexts: Contexts;
  options: ParityOptions;
  baseEnv: Record<string, string>;
  sha: string;
  gitShim: string;
  interceptLog: string;
  dir: string;
  where: string;
  problems: string[];
  needs: string[];
}

function stringEnv(value: Json | undefined): Record<string, string> {
  if (value === null || value === undefined || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null ? "" : String(v)]));
}

/** The tools a step's `bun scripts/ci/install-tools.ts [--for=…]` call installs (none for --check/--dry-run). */
function installedByScript(parsed: ScriptCommands, workspace: string): InstalledTool[] {
  return parsed.commands.flatMap((c) => {
    if (c.name !== "bun" || c.args[0] !== INSTALL_TOOLS_SCRIPT) return [];
    if (c.args.some((a) => a === "--check" || a === "--dry-run")) return [];
    const filters = c.args.filter((a) => a.startsWith("--for=")).map((a) => a.slice("--for=".length));
    return toolsFor(filters, workspace);
  });
}

async function runJob(run: JobRun): Promise<JobRecord> {
  const { job, workflow, contexts, options, problems, where } = run;
  const say = options.onLine ?? (() => {});
  const workspace = join(run.dir, "work", "timekit");
  const runnerTemp = join(run.dir, "temp");
  const installedBin = join(run.dir, "installed-bin");
  mkdirSync(runnerTemp, { recursive: true });
  mkdirSync(installedBin, { recursive: true });
  const state: JobState = {
    workspace,
    runnerTemp,
    source: options.source,
    sha: run.sha,
    path: [],
    env: {},
    cluster: false,
    bunShim: () => {
      const dir = shimDir(run.dir, "bun-bin");
      writeScript(
        join(dir, "bun"),
        `#!/bin/bash\ncase "\${1:-}" in test|run|deploy.ts) exec ${process.execPath} ${INTERCEPT} --log=${run.interceptLog} --real=${process.execPath} -- bun "$@" ;; esac\nexec ${process.execPath} "$@"\n`,
      );
      return dir;
    },
  };
  (contexts.github as Record<string, Json>).workspace = workspace;
  (contexts.runner as Record<string, Json>).temp = runnerTemp;
  const steps: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }> = {};
  contexts.steps = steps;
  const jobEnv: Record<string, string> = {};
  for (const source of [workflow.env, job.env]) {
    contexts.env = { ...jobEnv };
    checkReads(source, contexts, workflow, run.needs, `${where} env`, problems);
    Object.assign(jobEnv, stringEnv(interpolate(source ?? null, contexts)));
  }
  const records: StepRecord[] = [];
  let failed = false;
  const pathNow = () => [run.gitShim, ...state.path, options.image.bin, installedBin].join(":");

  for (const [index, step] of (job.steps ?? []).entries()) {
    const label = step.name ?? step.uses ?? `#${index + 1} ${String(step.run ?? "").split("\n")[0]}`;
    const at = `${where} › ${label}`;
    contexts.env = { ...jobEnv, ...state.env };
    const record = (mode: StepMode, ok: boolean, detail: string) => {
      records.push({ label, mode, ok, detail });
      say(`${ok ? "ok  " : "FAIL"} ${at}: ${mode}${detail ? ` — ${detail}` : ""}`);
      if (!ok) {
        problems.push(`${at}: ${detail}`);
        if (step["continue-on-error"] !== true) failed = true;
      }
      if (step.id)
        steps[step.id] ??= { outputs: {}, outcome: ok ? "success" : "failure", conclusion: ok ? "success" : "failure" };
    };
    checkReads(step.if, contexts, workflow, run.needs, `${at} if`, problems);
    if (!condition(step.if, contexts, { failed })) {
      records.push({ label, mode: "skipped", ok: true, detail: "" });
      if (step.id) steps[step.id] = { outputs: {}, outcome: "skipped", conclusion: "skipped" };
      continue;
    }
    checkReads(
      { env: step.env ?? null, with: step.with ?? null, run: step.run ?? null },
      contexts,
      workflow,
      run.needs,
      at,
      problems,
    );
    let stepEnv: Record<string, string>;
    let inputs: Record<string, Json>;
    let script: string;
    try {
      stepEnv = stringEnv(interpolate(step.env ?? null, contexts));
      inputs = (interpolate(step.with ?? {}, contexts) ?? {}) as Record<string, Json>;
      script = step.run === undefined ? "" : String(interpolate(step.run, contexts));
    } catch (error) {
      record("ran", false, (error as Error).message);
      continue;
    }
    if (step.uses) {
      const result = simulateAction(step.uses, inputs, state);
      record("simulated", result.ok, result.detail);
      continue;
    }
    if (step.run === undefined) {
      record("ran", false, "a step needs uses: or run:");
      continue;
    }
    const outcome = await runStep({
      run,
      step,
      script,
      stepEnv,
      state,
      path: pathNow(),
      workspace,
      runnerTemp,
      index,
      installedBin,
    });
    record(outcome.mode, outcome.ok, outcome.detail);
    if (step.id && outcome.ok) steps[step.id] = { outputs: outcome.outputs, outcome: "success", conclusion: "success" };
  }

  const outputs: Record<string, string> = {};
  if (!failed) {
    checkReads(job.outputs, contexts, workflow, run.needs, `${where} outputs`, problems);
    for (const [name, value] of Object.entries(stringEnv(interpolate(job.outputs ?? null, contexts)))) {
      const reads = outputReads(job.outputs?.[name]);
      if (reads.every((r) => r.context !== "steps" || steps[r.id]?.outputs[r.output] !== undefined))
        outputs[name] = value;
    }
  }
  return { id: run.id, leg: run.leg, result: failed ? "failure" : "success", steps: records, outputs };
}

interface StepRun {
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

async function runStep(s: StepRun): Promise<StepOutcome> {
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
