/**
 * What each action the workflows use does to a job, played locally: the parity test cannot run
 * the actions themselves (they are JavaScript bundles that talk to GitHub), so each has a
 * simulator that makes the same change to the job the real action makes (a checkout, `bun` on
 * PATH, variables in GITHUB_ENV) or checks its inputs. An action without one fails the test.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Glob } from "bun";
import type { Json } from "./expressions";

export interface JobState {
  workspace: string;
  runnerTemp: string;
  /** The git repository the job checks out (a clone of the working tree's HEAD). */
  source: string;
  sha: string;
  /** Directories the job added to PATH, newest first (GITHUB_PATH). */
  path: string[];
  env: Record<string, string>;
  /** From here on every step needs a live cluster: resolve-only. */
  cluster: boolean;
  /** Writes the `bun` shim into a directory and returns it. */
  bunShim: () => string;
  /** Artifacts uploaded so far in this run, by name: the directory kept for each. */
  artifacts: Map<string, string>;
}

export interface ActionResult {
  ok: boolean;
  detail: string;
}

type Simulator = (inputs: Record<string, Json>, job: JobState) => ActionResult;

function git(args: string[], cwd?: string): { ok: boolean; output: string } {
  const result = Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  return { ok: result.exitCode === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

const str = (value: Json | undefined): string => (value === undefined || value === null ? "" : String(value));

const checkout: Simulator = (inputs, job) => {
  const depth = Number(str(inputs["fetch-depth"]) || "1");
  const ref = str(inputs.ref) || job.sha;
  if (!Number.isInteger(depth) || depth < 0) return { ok: false, detail: `fetch-depth ${str(inputs["fetch-depth"])}` };
  const clone =
    depth === 0
      ? git(["clone", "--quiet", "--no-checkout", job.source, job.workspace])
      : git(["clone", "--quiet", "--no-checkout", `--depth=${depth}`, `file://${job.source}`, job.workspace]);
  if (!clone.ok) return { ok: false, detail: `git clone failed: ${clone.output}` };
  const switched = git(["checkout", "--quiet", "--detach", ref], job.workspace);
  if (!switched.ok) return { ok: false, detail: `git checkout ${ref} failed: ${switched.output}` };
  return {
    ok: true,
    detail: `fresh clone at ${ref.slice(0, 12)} (${depth === 0 ? "full history" : `depth ${depth}`})`,
  };
};

const setupBun: Simulator = (inputs, job) => {
  const wanted = str(inputs["bun-version"]);
  if (wanted !== Bun.version) {
    return { ok: false, detail: `bun-version ${wanted || "(unset)"}; this machine has ${Bun.version}` };
  }
  job.path.unshift(job.bunShim());
  return { ok: true, detail: `bun ${Bun.version} on PATH` };
};

const githubRuntime: Simulator = (_inputs, job) => {
  job.env.ACTIONS_RUNTIME_TOKEN = "parity-runtime-token";
  job.env.ACTIONS_RESULTS_URL = "https://results.parity.invalid/";
  job.env.ACTIONS_CACHE_URL = "https://cache.parity.invalid/";
  return { ok: true, detail: "ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL, ACTIONS_CACHE_URL exported" };
};

const required =
  (names: string[], what: string): Simulator =>
  (inputs) => {
    const missing = names.filter((name) => str(inputs[name]) === "");
    return missing.length > 0
      ? { ok: false, detail: `${what}: empty input(s) ${missing.join(", ")}` }
      : { ok: true, detail: `${what} (not performed here)` };
  };

const uploadArtifact: Simulator = (inputs, job) => {
  const path = str(inputs.path);
  const name = str(inputs.name);
  if (!name || !path) return { ok: false, detail: "upload-artifact needs name and path" };
  if (str(inputs.overwrite) !== "true") {
    return { ok: false, detail: "upload-artifact without overwrite: true fails on a re-run" };
  }
  const files = existsSync(path) ? readdirSync(path, { recursive: true }) : [];
  if (files.length === 0 && str(inputs["if-no-files-found"]) === "error") {
    return { ok: false, detail: `no files at ${path}` };
  }
  const kept = join(job.runnerTemp, "..", `artifact-${name}`);
  if (files.length > 0) cpSync(path, kept, { recursive: true });
  job.artifacts.set(name, kept);
  return {
    ok: true,
    detail: `artifact ${name}: ${files.length} file(s) at ${path} (kept for later jobs, not uploaded)`,
  };
};

/** Copies what an earlier job of this run uploaded under the name; a name nobody uploaded fails. */
const downloadArtifact: Simulator = (inputs, job) => {
  const name = str(inputs.name);
  const path = str(inputs.path);
  if (!name || !path) return { ok: false, detail: "download-artifact: give name and path (one artifact, one place)" };
  const kept = job.artifacts.get(name);
  if (!kept) return { ok: false, detail: `download-artifact: no job of this run uploaded an artifact named ${name}` };
  mkdirSync(path, { recursive: true });
  if (existsSync(kept)) cpSync(kept, path, { recursive: true });
  const files = existsSync(path) ? readdirSync(path, { recursive: true }).length : 0;
  return { ok: true, detail: `artifact ${name}: ${files} file(s) into ${path}` };
};

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** actions/attest-build-provenance: exactly one way to name the subject, and a subject that exists. */
const attestProvenance: Simulator = (inputs) => {
  const path = str(inputs["subject-path"]);
  const name = str(inputs["subject-name"]);
  const digest = str(inputs["subject-digest"]);
  if (path && (name || digest)) return { ok: false, detail: "attest: subject-path or subject-name/digest, not both" };
  if (path) {
    const matches = [...new Glob(path.replace(/^\//, "")).scanSync({ cwd: "/", absolute: true })];
    return matches.length > 0
      ? { ok: true, detail: `provenance of ${matches.length} file(s) (not attested here)` }
      : { ok: false, detail: `attest: subject-path ${path} matches no file` };
  }
  if (!name || !DIGEST.test(digest)) {
    return {
      ok: false,
      detail: `attest: subject-name and a sha256 subject-digest needed, got ${JSON.stringify(digest)}`,
    };
  }
  return { ok: true, detail: `provenance of ${name}@${digest.slice(0, 19)}… (not attested here)` };
};

const kind: Simulator = (inputs, job) => {
  job.cluster = true;
  return { ok: true, detail: `kind ${str(inputs.version)} cluster: every later step is resolve-only` };
};

const SIMULATORS: Readonly<Record<string, Simulator>> = {
  "actions/checkout": checkout,
  "oven-sh/setup-bun": setupBun,
  "crazy-max/ghaction-github-runtime": githubRuntime,
  "docker/setup-buildx-action": () => ({ ok: true, detail: "buildx builder (the image's docker has buildx)" }),
  "docker/login-action": required(["registry", "username", "password"], "registry login"),
  "actions/upload-artifact": uploadArtifact,
  "actions/download-artifact": downloadArtifact,
  "actions/attest-build-provenance": attestProvenance,
  "azure/setup-helm": required(["version"], "helm from the image, at the pinned version"),
  "helm/kind-action": kind,
};

export function simulateAction(uses: string, inputs: Record<string, Json>, job: JobState): ActionResult {
  const action = uses.split("@")[0]?.toLowerCase() ?? "";
  const simulator = Object.entries(SIMULATORS).find(([name]) => name.toLowerCase() === action)?.[1];
  if (!simulator) {
    return { ok: false, detail: `no simulator for ${uses}: add one to scripts/ci/parity/actions.ts` };
  }
  mkdirSync(job.runnerTemp, { recursive: true });
  return simulator(inputs, job);
}

/** Writes an executable shell script. */
export function writeScript(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o755 });
}

export function shimDir(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
