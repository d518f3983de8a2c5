/**
 * The project's rules for GitHub Actions workflows, checked over the parsed YAML:
 * - pinned-actions: every action and reusable workflow is pinned by a full commit SHA with its
 *   version in a trailing comment (`uses: owner/repo@<40 hex> # v1.2.3`); Docker actions by digest.
 * - read-only-permissions: a top-level `permissions` block exists and grants nothing but read;
 *   write scopes belong on the jobs that need them.
 * - job-timeouts: every job that runs steps sets `timeout-minutes`.
 * - concurrency: a top-level `concurrency` group, or one on every job.
 * - no-untrusted-interpolation: no `${{ }}` reading attacker-controlled contexts (event payload,
 *   head ref, inputs) inside a `run:` script or a github-script `script:`; pass them through `env:`.
 * - strict-shell: every `run:` script runs under bash with `-e`, `-u` and `-o pipefail` (from
 *   `shell:` or `defaults.run.shell`, e.g. `bash --noprofile --norc -euo pipefail {0}`), or starts
 *   with `set -euo pipefail`: a failing command, an unset variable or a failing pipe stage fails
 *   the step instead of letting it go green with empty output.
 */
import { isMap, isScalar, type Node, type YAMLMap } from "yaml";
import {
  type Finding,
  jobs,
  keyNode,
  lineOf,
  mapGet,
  rootMap,
  runScripts,
  scalarString,
  steps,
  syntaxFindings,
  type Workflow,
} from "./workflows";

export type { Finding } from "./workflows";

const SHA_PIN = /^[^@\s]+@[0-9a-f]{40}$/;
const DIGEST_PIN = /^docker:\/\/[^@\s]+@sha256:[0-9a-f]{64}$/;
const VERSION_COMMENT = /^\s*v?\d+(\.\d+)*([-+.][\w.]+)?\b/;

/** Contexts a pull request author or dispatcher controls. */
const UNTRUSTED_CONTEXT = /(?<![\w.])(github\.event\b|github\.head_ref\b|inputs\.|github\s*\[\s*['"]event['"])/;
const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;

function finding(workflow: Workflow, node: Node | null, rule: string, message: string): Finding {
  return { file: workflow.file, line: lineOf(workflow, node), rule, message };
}

/** Problems with one `uses:` reference, or null when it is pinned properly. */
export function pinProblem(uses: string, comment: string | null | undefined): string | null {
  if (uses.startsWith("./")) return null;
  if (uses.startsWith("docker://")) {
    return DIGEST_PIN.test(uses) ? null : `${uses} is not pinned by digest (docker://image@sha256:<64 hex>)`;
  }
  if (!SHA_PIN.test(uses)) return `${uses} is not pinned by a full commit SHA`;
  if (!comment || !VERSION_COMMENT.test(comment)) return `${uses} has no "# vX.Y.Z" comment naming the pinned version`;
  return null;
}

function checkPins(workflow: Workflow): Finding[] {
  const found: Finding[] = [];
  const check = (node: Node | null, where: string) => {
    if (!isScalar(node) || typeof node.value !== "string") return;
    const problem = pinProblem(node.value, node.comment);
    if (problem) found.push(finding(workflow, node, "pinned-actions", `${where}: ${problem}`));
  };
  for (const job of jobs(workflow)) {
    check(mapGet(job.job, "uses"), `job ${job.id}`);
    for (const step of steps(job)) check(mapGet(step.step, "uses"), `job ${job.id}, step ${step.label}`);
  }
  return found;
}

const READ_ONLY = new Set(["read", "none"]);

function checkPermissions(workflow: Workflow, root: YAMLMap): Finding[] {
  const permissions = mapGet(root, "permissions");
  if (permissions === null) {
    return [
      finding(
        workflow,
        null,
        "read-only-permissions",
        "no top-level permissions block (add `permissions: contents: read`)",
      ),
    ];
  }
  if (isScalar(permissions)) {
    if (permissions.value === "read-all") return [];
    return [
      finding(
        workflow,
        permissions,
        "read-only-permissions",
        `top-level permissions: ${String(permissions.value)} is not read-only`,
      ),
    ];
  }
  if (!isMap(permissions)) {
    return [finding(workflow, permissions, "read-only-permissions", "top-level permissions must be a map of scopes")];
  }
  return permissions.items.flatMap((pair) => {
    const scope = isScalar(pair.key) ? String(pair.key.value) : "?";
    const level = isScalar(pair.value) ? String(pair.value.value) : "?";
    return READ_ONLY.has(level)
      ? []
      : [
          finding(
            workflow,
            pair.key as Node,
            "read-only-permissions",
            `top-level permission ${scope}: ${level}; grant write scopes on the jobs that need them`,
          ),
        ];
  });
}

function checkTimeouts(workflow: Workflow): Finding[] {
  return jobs(workflow).flatMap((job) => {
    // Jobs that call a reusable workflow cannot set timeout-minutes; the called jobs do.
    if (mapGet(job.job, "uses") !== null || mapGet(job.job, "timeout-minutes") !== null) return [];
    return [finding(workflow, job.idNode, "job-timeouts", `job ${job.id} has no timeout-minutes`)];
  });
}

function checkConcurrency(workflow: Workflow, root: YAMLMap): Finding[] {
  if (mapGet(root, "concurrency") !== null) return [];
  const missing = jobs(workflow).filter((job) => mapGet(job.job, "concurrency") === null);
  if (missing.length === 0 && jobs(workflow).length > 0) return [];
  return [
    finding(
      workflow,
      keyNode(root, "jobs"),
      "concurrency",
      `no top-level concurrency group and none on job(s) ${missing.map((j) => j.id).join(", ") || "(no jobs)"}`,
    ),
  ];
}

/** The untrusted expressions interpolated into `script`. */
export function untrustedExpressions(script: string): string[] {
  return [...script.matchAll(EXPRESSION)]
    .filter((match) => UNTRUSTED_CONTEXT.test(match[1] ?? ""))
    .map((match) => match[0]);
}

function checkInterpolation(workflow: Workflow): Finding[] {
  const found: Finding[] = [];
  for (const job of jobs(workflow)) {
    for (const step of steps(job)) {
      const run = mapGet(step.step, "run");
      const uses = scalarString(mapGet(step.step, "uses")) ?? "";
      const withMap = mapGet(step.step, "with");
      const script = uses.startsWith("actions/github-script@") && isMap(withMap) ? mapGet(withMap, "script") : null;
      for (const [node, kind] of [
        [run, "run"],
        [script, "script"],
      ] as const) {
        const text = scalarString(node);
        if (text === null) continue;
        for (const expression of untrustedExpressions(text)) {
          found.push(
            finding(
              workflow,
              node,
              "no-untrusted-interpolation",
              `job ${job.id}, step ${step.label}: ${expression} inside ${kind}:; pass it through env: and use "$VAR"`,
            ),
          );
        }
      }
    }
  }
  return found;
}

/** The argv GitHub runs a `shell:` value as (null = not set = `bash -e {0}`). */
function shellWords(shell: string | null): string[] {
  if (shell === null) return ["bash", "-e", "{0}"];
  if (shell === "bash") return ["bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"];
  if (shell === "sh") return ["sh", "-e", "{0}"];
  return shell.trim().split(/\s+/);
}

/** The -e/-u/pipefail settings given by option words such as `-euo pipefail` or `-e -o pipefail`. */
function strictOptions(words: readonly string[]): Set<string> {
  const set = new Set<string>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (!/^-[a-zA-Z]+$/.test(word)) continue;
    for (const letter of word.slice(1)) {
      if (letter === "o") {
        const option = words[i + 1];
        if (option !== undefined) set.add(option);
      } else set.add(letter);
    }
  }
  return set;
}

const isStrict = (options: Set<string>) => options.has("e") && options.has("u") && options.has("pipefail");

/** Why a `run:` script under `shell` is not strict, or null when it is. */
export function strictShellProblem(shell: string | null, script: string): string | null {
  const words = shellWords(shell);
  const program = (words[0] ?? "").split("/").pop();
  if (program !== "bash") return `runs under ${JSON.stringify(shell)}, not bash`;
  if (isStrict(strictOptions(words.slice(1)))) return null;
  const firstLine = script.split("\n").find((line) => line.trim() !== "" && !line.trim().startsWith("#")) ?? "";
  const set = /^\s*set\s+(.*)$/.exec(firstLine);
  if (set && isStrict(strictOptions((set[1] ?? "").trim().split(/\s+/)))) return null;
  return `runs under "${words.join(" ")}", without all of -e, -u and -o pipefail`;
}

function checkStrictShell(workflow: Workflow): Finding[] {
  return runScripts(workflow).flatMap((run) => {
    const problem = strictShellProblem(run.shell, run.script);
    return problem === null
      ? []
      : [
          {
            file: workflow.file,
            line: run.line,
            rule: "strict-shell",
            message: `job ${run.job}, step ${run.step}: ${problem}; set defaults.run.shell: bash --noprofile --norc -euo pipefail {0}`,
          },
        ];
  });
}

export function checkWorkflow(workflow: Workflow): Finding[] {
  const syntax = syntaxFindings(workflow);
  if (syntax.length > 0) return syntax;
  const root = rootMap(workflow);
  if (!root) return [finding(workflow, null, "yaml-syntax", "a workflow must be a YAML mapping")];
  return [
    ...checkPins(workflow),
    ...checkPermissions(workflow, root),
    ...checkTimeouts(workflow),
    ...checkConcurrency(workflow, root),
    ...checkInterpolation(workflow),
    ...checkStrictShell(workflow),
  ].sort((a, b) => a.line - b.line);
}

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}: [${f.rule}] ${f.message}`;
}
