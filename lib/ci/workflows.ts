/** Loading GitHub Actions workflow files and walking their jobs and steps with source lines. */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";

export interface Finding {
  file: string;
  line: number;
  rule: string;
  message: string;
}

export interface Workflow {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export function parseWorkflow(file: string, text: string): Workflow {
  const lines = new LineCounter();
  // YAML 1.2 (the default) keeps the `on:` key a string instead of YAML 1.1's boolean true.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  return { file, doc, lines };
}

export async function listWorkflowFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch(() => []);
  return entries
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

export async function loadWorkflows(dir: string): Promise<Workflow[]> {
  const files = await listWorkflowFiles(dir);
  return Promise.all(files.map(async (file) => parseWorkflow(file, await Bun.file(file).text())));
}

export function lineOf(workflow: Workflow, node: Node | null | undefined): number {
  const offset = node?.range?.[0];
  return offset === undefined ? 1 : workflow.lines.linePos(offset).line;
}

export function syntaxFindings(workflow: Workflow): Finding[] {
  return workflow.doc.errors.map((error) => ({
    file: workflow.file,
    line: error.linePos?.[0]?.line ?? 1,
    rule: "yaml-syntax",
    message: error.message,
  }));
}

export function rootMap(workflow: Workflow): YAMLMap | null {
  return isMap(workflow.doc.contents) ? workflow.doc.contents : null;
}

export function mapGet(map: YAMLMap, key: string): Node | null {
  const value = map.get(key, true);
  return (value as Node | undefined) ?? null;
}

/** The key node itself, so a finding about a missing child can point at its parent's line. */
export function keyNode(map: YAMLMap, key: string): Node | null {
  const pair = map.items.find((item) => isScalar(item.key) && item.key.value === key);
  return (pair?.key as Node | undefined) ?? null;
}

export function scalarString(node: Node | null): string | null {
  return isScalar(node) && typeof node.value === "string" ? node.value : null;
}

export interface JobRef {
  id: string;
  job: YAMLMap;
  idNode: Node | null;
}

export function jobs(workflow: Workflow): JobRef[] {
  const root = rootMap(workflow);
  const jobsNode = root ? mapGet(root, "jobs") : null;
  if (!isMap(jobsNode)) return [];
  return jobsNode.items.flatMap((pair) =>
    isScalar(pair.key) && isMap(pair.value)
      ? [{ id: String(pair.key.value), job: pair.value, idNode: pair.key as Node }]
      : [],
  );
}

export interface StepRef {
  job: JobRef;
  index: number;
  step: YAMLMap;
  /** `name:` if given, else `#<index>`. */
  label: string;
}

export function steps(job: JobRef): StepRef[] {
  const stepsNode = mapGet(job.job, "steps");
  if (!isSeq(stepsNode)) return [];
  return stepsNode.items.flatMap((item, index) => {
    if (!isMap(item)) return [];
    const name = scalarString(mapGet(item, "name"));
    return [{ job, index, step: item, label: name ?? `#${index + 1}` }];
  });
}

export interface RunScript {
  file: string;
  job: string;
  step: string;
  /** Line of the first script line in the workflow file. */
  line: number;
  shell: string | null;
  script: string;
}

/** Every `run:` script, with the shell it runs under (null = the runner's default, bash). */
export function runScripts(workflow: Workflow): RunScript[] {
  const root = rootMap(workflow);
  const workflowShell = root ? defaultShell(root) : null;
  return jobs(workflow).flatMap((job) => {
    const jobShell = defaultShell(job.job) ?? workflowShell;
    return steps(job).flatMap((ref) => {
      const runNode = mapGet(ref.step, "run");
      if (!isScalar(runNode) || typeof runNode.value !== "string") return [];
      const isBlock = runNode.type === "BLOCK_LITERAL" || runNode.type === "BLOCK_FOLDED";
      return [
        {
          file: workflow.file,
          job: job.id,
          step: ref.label,
          line: lineOf(workflow, runNode) + (isBlock ? 1 : 0),
          shell: scalarString(mapGet(ref.step, "shell")) ?? jobShell,
          script: runNode.value,
        },
      ];
    });
  });
}

function defaultShell(map: YAMLMap): string | null {
  const defaults = mapGet(map, "defaults");
  const run = isMap(defaults) ? mapGet(defaults, "run") : null;
  return isMap(run) ? scalarString(mapGet(run, "shell")) : null;
}
