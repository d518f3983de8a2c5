/**
 * The parity runner's model of a workflow: the YAML's shape, the reports it produces, and the
 * pure rules GitHub applies (command files, `shell:` argv, matrix legs, job order, which output
 * reads were never set).
 */
import type { Contexts, Json } from "./expressions";
import { outputReads } from "./expressions";
import type { RunnerImage } from "./image";

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
  /** The repository's secrets; default REPOSITORY_SECRETS. */
  secrets?: Record<string, string>;
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

export interface WorkflowStep {
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

export interface WorkflowJob {
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

export interface Workflow {
  env?: Record<string, Json>;
  defaults?: { run?: { shell?: string } };
  jobs: Record<string, WorkflowJob>;
}

export interface JobOutcome {
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

export function matrixLegs(matrix: Json): Array<Record<string, Json>> {
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

export function topologicalOrder(jobs: Record<string, WorkflowJob>): string[] {
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

export function stringEnv(value: Json | undefined): Record<string, string> {
  if (value === null || value === undefined || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null ? "" : String(v)]));
}

/** Reports each `steps.X.outputs.Y` / `needs.X.outputs.Y` in `value` that nothing has set. */
export function checkReads(
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
