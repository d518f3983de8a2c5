/**
 * The runner-parity test's engine: runs a workflow's jobs the way GitHub's ubuntu-24.04 runner
 * would, here. Each job gets a fresh clone, `CI=true`, GitHub's variables and command files
 * (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH), `${{ }}` evaluated by GitHub's expression evaluator,
 * and a PATH holding only the runner image's commands plus what the job installs itself
 * (setup-bun's bun, scripts/ci/install-tools.ts's tools). Steps run for real, except the calls
 * scripts/ci/parity/commands.ts makes resolve-only. It reports every missing command, every output
 * read before it was set, and every step that fails.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { shimDir, writeScript } from "./actions";
import { type Contexts, condition, interpolate, type Json, type Status } from "./expressions";
import { INTERCEPT_SCRIPT } from "./intercept";
import { runJob } from "./job";
import {
  checkReads,
  type JobOutcome,
  type JobRecord,
  matrixLegs,
  type ParityOptions,
  type ParityReport,
  topologicalOrder,
  type Workflow,
  type WorkflowJob,
} from "./model";

export type { EventSpec, JobRecord, ParityOptions, ParityReport, StepRecord } from "./model";
export { parseCommandFile, shellArgv } from "./model";

/** Variables of this machine a step needs to reach the npm registry and the Docker engine. */
const PASSED_THROUGH = ["HOME", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"];
const PASSED_THROUGH_LOWER = ["http_proxy", "https_proxy", "no_proxy", "DOCKER_HOST"];

/**
 * The secrets a repository running these workflows has (docs/pipeline.md): GitHub's token and
 * the archive signing key. Placeholders: nothing that uses them runs for real here.
 */
export const REPOSITORY_SECRETS: Readonly<Record<string, string>> = {
  GITHUB_TOKEN: "parity-github-token",
  TIMEKIT_SIGNING_KEY: "parity-signing-key",
};

function headOf(source: string): string {
  const result = Bun.spawnSync(["git", "-C", source, "rev-parse", "HEAD"], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${source} is not a git repository: ${result.stderr}`);
  return result.stdout.toString().trim();
}

export async function runWorkflow(options: ParityOptions): Promise<ParityReport> {
  const workflow = parse(options.text) as Workflow;
  const problems: string[] = [];
  const records: JobRecord[] = [];
  const artifacts = new Map<string, string>();
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
  // gh talks to GitHub: every call is resolve-only (the image's gh, or its stub here, must exist).
  writeScript(
    join(gitShim, "gh"),
    `#!/bin/bash\nexec ${process.execPath} ${INTERCEPT_SCRIPT} --log=${interceptLog} --real=${join(options.image.bin, "gh")} -- gh "$@"\n`,
  );
  writeScript(
    join(gitShim, "git"),
    `#!/bin/bash\nif [ "\${1:-}" = push ]; then exec ${process.execPath} ${INTERCEPT_SCRIPT} --log=${interceptLog} --real=${realGit} -- git "$@"; fi\nexec ${realGit} "$@"\n`,
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
    GITHUB_WORKFLOW_REF: `${owner}/timekit/.github/workflows/${options.file}@${options.event.ref}`,
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
      secrets: { ...(options.secrets ?? REPOSITORY_SECRETS) },
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
        artifacts,
      });
      records.push(record);
      if (record.result === "failure") result = "failure";
      outputs = record.outputs;
    }
    outcomes[id] = { result, outputs };
  }
  return { file: options.file, jobs: records, problems };
}
