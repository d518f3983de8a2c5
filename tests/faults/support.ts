/**
 * What the fault suites share: a Compose stack of their own (project `timekit-test-faults-…`,
 * state dir, loopback port, images under this run's `timekit-test-faults-<run>/…`, labelled with it), the CLI
 * as a real process, and a deploy whose `--progress=json` events can be waited on, so a signal
 * lands at a chosen step every time.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServiceStatus } from "../../lib/deploy/plan";
import type { RunningVersion } from "../../lib/targets/target";
import { type CliResult, cli, containerIds, ROOT, removeProject, TEST_COMMIT } from "../deploy/helpers";
import { runRepository } from "../support/deploy-images";
import { freePort, run, uniqueName } from "../support/docker";

export const REPOSITORY = runRepository("faults");

export interface Stack {
  project: string;
  /** service2's published port; a test that moves it sets it here. */
  port: number;
  stateRoot: string;
  deploy: (args: string[], env?: Record<string, string>) => Promise<CliResult>;
  /** `up` with the stack's project, port, repository and quiet output. */
  up: (args: string[], env?: Record<string, string>) => Promise<CliResult>;
  status: () => Promise<StatusJson>;
  history: () => Promise<HistoryRow[]>;
  destroy: () => Promise<void>;
}

/** One service's row of `status --json`: what every target reports, plus each distinct version that runs. */
export interface ServiceStatusJson extends ServiceStatus {
  running: RunningVersion[];
}

export interface StatusJson {
  services: { service1: ServiceStatusJson; service2: ServiceStatusJson };
  journal?: { interrupted?: string; inProgress?: string };
}

export interface HistoryRow {
  action: string;
  result: string;
  versions: { service1: string; service2: string };
  params: { service1: { replicas: number; env: Record<string, string> } };
  port: number;
  changed: string[];
  message?: string;
  left?: string;
  settings?: Record<string, Record<string, string>>;
}

export function stack(what: string): Stack {
  const project = uniqueName(`faults-${what}`);
  const stateRoot = mkdtempSync(join(tmpdir(), "timekit-test-faults-state-"));
  const port = freePort();
  const deploy = cli({ TIMEKIT_STATE_DIR: stateRoot });
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await deploy([...args, `--project=${project}`, "--json"]);
    if (r.code !== 0) throw new Error(`${args.join(" ")} failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const self: Stack = {
    project,
    port,
    stateRoot,
    deploy,
    up: (args, env) =>
      deploy(
        [`--project=${project}`, `--local_repository=${REPOSITORY}`, `--port=${self.port}`, "--quiet", ...args],
        env,
      ),
    status: () => json<StatusJson>(["status"]),
    history: () => json<HistoryRow[]>(["history"]),
    destroy: async () => {
      await deploy(["down", `--project=${project}`, "--force_unlock", "--quiet"]);
      await removeProject(project);
      rmSync(stateRoot, { recursive: true, force: true });
    },
  };
  return self;
}

export interface ProgressEvent {
  event: "start" | "end" | "note" | "warn";
  step?: string;
  ok?: boolean;
  text?: string;
}

/** A `deploy.ts` process with `--progress=json`: its events as they come, a signal at a chosen step. */
export class DeployProcess {
  readonly events: ProgressEvent[] = [];
  private readonly waiters: { step: string; resolve: () => void }[] = [];
  private readonly proc: { kill(signal: NodeJS.Signals): void };
  readonly done: Promise<CliResult>;

  constructor(s: Stack, args: string[], env: Record<string, string> = {}) {
    const proc = Bun.spawn(
      [
        "bun",
        "deploy.ts",
        `--project=${s.project}`,
        "--progress=json",
        // `up` (no command name) deploys into the stack's repository and port; other commands take neither.
        ...(args[0]?.startsWith("-") ? [`--local_repository=${REPOSITORY}`, `--port=${s.port}`] : []),
        ...args,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, REGISTRY: "", BUILD_COMMIT: TEST_COMMIT, TIMEKIT_STATE_DIR: s.stateRoot, ...env },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    this.proc = proc;
    const stderr = this.stderr;
    const reading = (async () => {
      const decoder = new TextDecoder();
      let rest = "";
      for await (const chunk of proc.stderr) {
        const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
        rest = parts.pop() ?? "";
        for (const line of parts) this.line(line, stderr);
      }
      if (rest) this.line(rest, stderr);
    })();
    this.done = (async () => {
      const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      await reading;
      return { code, stdout, stderr: stderr.join("\n") };
    })();
  }

  private line(line: string, stderr: string[]): void {
    stderr.push(line);
    if (!line.startsWith("{")) return;
    try {
      const event = JSON.parse(line) as ProgressEvent;
      this.events.push(event);
      if (event.event === "start") {
        for (const w of this.waiters.filter((w) => w.step === event.step)) w.resolve();
      }
    } catch {
      // not an event
    }
  }

  /** What the process printed on stderr so far. */
  readonly stderr: string[] = [];

  /** True when the step starts; false (after printing its stderr) when the process ends first. */
  async started(step: string, timeoutMs = 300_000): Promise<boolean> {
    if (this.events.some((e) => e.event === "start" && e.step === step)) return true;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.waiters.push({ step, resolve });
    const outcome = await Promise.race([
      promise.then(() => "started" as const),
      this.done.then(() => "ended" as const),
      Bun.sleep(timeoutMs).then(() => "timeout" as const),
    ]);
    if (outcome === "timeout") throw new Error(`step ${step} did not start within ${timeoutMs} ms`);
    if (outcome === "ended") console.error(`the deploy ended before ${step}:\n${this.stderr.join("\n")}`);
    return outcome === "started";
  }

  kill(signal: "SIGINT" | "SIGTERM" | "SIGKILL"): void {
    this.proc.kill(signal);
  }
}

/** Service containers of the project by service, running ones only, sorted. */
export async function containers(project: string): Promise<Record<"service1" | "service2", string[]>> {
  return { service1: await containerIds(project, "service1"), service2: await containerIds(project, "service2") };
}

/** One-off containers (canaries) of the project, whatever their state. */
export async function canaries(project: string): Promise<string[]> {
  const out = await run([
    "docker",
    "ps",
    "-aq",
    "--filter",
    `label=com.docker.compose.project=${project}`,
    "--filter",
    "label=com.docker.compose.oneoff=True",
  ]);
  return out.stdout.split("\n").filter(Boolean);
}
