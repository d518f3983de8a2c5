/**
 * One job of a workflow, run as the runner would: its environment and PATH, each step's `if:`,
 * inputs and outputs, actions simulated (actions.ts), `run:` scripts through step.ts.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type JobState, shimDir, simulateAction, writeScript } from "./actions";
import { type Contexts, condition, interpolate, type Json, outputReads } from "./expressions";
import { INTERCEPT_SCRIPT } from "./intercept";
import {
  checkReads,
  type JobRecord,
  type ParityOptions,
  type StepMode,
  type StepRecord,
  stringEnv,
  type Workflow,
  type WorkflowJob,
} from "./model";
import { runStep } from "./step";

export interface JobRun {
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
  artifacts: Map<string, string>;
}

export async function runJob(run: JobRun): Promise<JobRecord> {
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
    artifacts: run.artifacts,
    bunShim: () => {
      const dir = shimDir(run.dir, "bun-bin");
      writeScript(
        join(dir, "bun"),
        `#!/bin/bash\ncase "\${1:-}" in test|run|deploy.ts) exec ${process.execPath} ${INTERCEPT_SCRIPT} --log=${run.interceptLog} --real=${process.execPath} -- bun "$@" ;; esac\nexec ${process.execPath} "$@"\n`,
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
