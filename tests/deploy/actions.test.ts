/**
 * The actions over the Target interface, with a recording in-memory target: what `up` and
 * `rollback` do with steps and phases, failed gates, failures that are not gates, failed
 * restores, interrupts, a journal left by a killed deploy, a state dir that cannot be written,
 * the exit codes they end with and what history and the journal keep. The real drivers are tested
 * against a real engine (compose.test.ts, tests/faults/) and, for Kubernetes, up to where a
 * cluster must answer.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { apply } from "../../lib/deploy/actions/apply";
import { down } from "../../lib/deploy/actions/down";
import { rollback } from "../../lib/deploy/actions/rollback";
import { up } from "../../lib/deploy/actions/up";
import { entryFromState, History, type LastGood } from "../../lib/deploy/history";
import { backoff, InterruptGuard } from "../../lib/deploy/interrupt";
import { Journal, type Phase, type StepRecord } from "../../lib/deploy/journal";
import { EDGE_PENDING, type Plan, planFor, type ServiceState, stateOf } from "../../lib/deploy/plan";
import { Progress } from "../../lib/deploy/progress";
import { NOTHING_GIVEN } from "../../lib/deploy/reuse";
import { DeployError, ExitCode, GateFailed } from "../../lib/errors";
import type { Io } from "../../lib/io";
import { perService, type ServiceName } from "../../lib/services";
import type { Restored, Rollout, StepContext, Target, TargetContext } from "../../lib/targets/target";

const root = mkdtempSync(join(tmpdir(), "timekit-actions-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Script {
  /** Called while images are resolved (to interrupt there). */
  duringResolve?: () => void;
  /** `service:phase` whose gate fails. */
  failGate?: string[];
  /** `service:phase` that fails with a non-gate error (a Compose failure, say). */
  failHard?: string[];
  restoreFails?: boolean;
  resolveFails?: boolean;
  /** One step with both services (Kubernetes) instead of one per service (Compose). */
  together?: boolean;
  /** Called when `service:phase` runs (to interrupt, or to break the state dir). */
  during?: Record<string, () => void>;
}

const PHASES: Phase[] = ["canary", "start", "health", "probe", "retire", "verify"];

/** A target that runs nothing: it records what the action asked, and fails where told. */
function fakeTarget(dir: string, script: Script) {
  const calls: string[] = [];
  const rolloutOf = (record: StepRecord, canApply: boolean): Rollout => {
    const name = record.services.join("+");
    return {
      record,
      prepare: async () => void calls.push(`prepare ${name}`),
      phases: canApply
        ? PHASES.map((phase) => ({
            phase,
            name: `${name} ${phase}`,
            run: async () => {
              calls.push(`${phase} ${name}`);
              for (const s of record.services) {
                script.during?.[`${s}:${phase}`]?.();
                if (script.failGate?.includes(`${s}:${phase}`))
                  throw new GateFailed(`${s} is unhealthy`, `logs of ${s}`);
                if (script.failHard?.includes(`${s}:${phase}`)) throw new DeployError(`compose broke at ${phase}`);
              }
            },
          }))
        : [],
      async recover(at, cause): Promise<Restored> {
        calls.push(`recover ${name} at ${at} (${cause})`);
        if (script.restoreFails) return { ok: false, message: "restore broke", states: {} };
        if (at === "retire") {
          return { ok: true, finished: true, message: `${name} finished`, states: record.target };
        }
        const states: Partial<Record<ServiceName, ServiceState>> = {};
        for (const s of record.services) {
          const target = record.target[s] as ServiceState;
          states[s] = record.previous[s] ?? { ...target, replicas: 0 };
        }
        return { ok: true, message: `${name} is back`, states };
      },
    };
  };
  const target: Target = {
    kind: "compose",
    stateDir: dir,
    historyFields: {},
    undo: null,
    dryRun: async () => ({ text: "", json: {} }),
    preflight: async () => void calls.push("preflight"),
    async resolveImages(plan: Plan) {
      calls.push("resolve");
      if (script.duringResolve) {
        script.duringResolve();
        await Bun.sleep(50);
      }
      if (script.resolveFails) throw new DeployError("no such tag");
      return {
        ...plan,
        services: perService((s) => {
          const { edge, ...service } = plan.services[s];
          return {
            ...service,
            image: `${service.image}-pinned`,
            digest: "sha256:1",
            // As ComposeTarget does: a pending edge is assembled, a pinned one kept.
            ...(edge
              ? { edge: edge.image === EDGE_PENDING ? { image: "timekit/edge:test", digest: "sha256:e" } : edge }
              : {}),
          };
        }),
      };
    },
    steps: async () => (script.together ? [["service1", "service2"]] : [["service1"], ["service2"]]),
    rollout(plan, step, context: StepContext, previous: LastGood): Rollout {
      const record: StepRecord = {
        services: step,
        phase: "canary",
        previous: Object.fromEntries(step.map((s) => [s, previous.states[s]])),
        target: Object.fromEntries(step.map((s) => [s, stateOf(plan.services[s])])),
        port: { previous: context.port, target: plan.port },
        oldContainers: ["old-1"],
        canary: null,
      };
      return rolloutOf(record, true);
    },
    resume(record) {
      calls.push(`resume ${record.services.join("+")} at ${record.phase}`);
      return rolloutOf(record, false);
    },
    summary: async (state) => `service1 ${state.service1.version}, service2 ${state.service2.version}`,
    status: async () => {
      throw new Error("not used");
    },
    platformHistory: async () => null,
    down: async () => {},
  };
  return { target, calls };
}

function context(dir: string): TargetContext & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: {}, tty: false };
  return { project: "p", stateDir: dir, stateRoot: root, progress: new Progress(io, true), io, out, err };
}

function plan(v1: string, v2 = "1.0.0"): Plan {
  return planFor({
    target: "compose",
    project: "p",
    versions: { service1: { kind: "tag", tag: v1 }, service2: { kind: "tag", tag: v2 } },
    replicas: 2,
    port: 0,
    env: perService(() => ({})),
    healthTimeoutMs: 1000,
  });
}

const lock = { waitMs: 0, force: false };
let n = 0;
const fresh = () => join(root, `case-${n++}`);

async function failure(run: Promise<unknown>): Promise<DeployError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DeployError)) throw new Error(`expected a DeployError, got ${String(error)}`);
  return error;
}

const steps = (name: string) => PHASES.map((p) => `${p} ${name}`);

test("a passing deploy runs every phase of every step in order, records ok with every setting, removes the journal", async () => {
  const dir = fresh();
  const { target, calls } = fakeTarget(dir, {});
  const ctx = context(dir);
  const running = await up(target, ctx, { plan: plan("1.0.0"), action: "up", lock });
  expect(calls).toEqual([
    "preflight",
    "resolve",
    "prepare service1",
    ...steps("service1"),
    "prepare service2",
    ...steps("service2"),
  ]);
  expect(running.service1.image).toBe("timekit/service1:1.0.0-pinned");
  expect(ctx.out.join("")).toMatch(/^deployed service1 1\.0\.0, service2 1\.0\.0 in \d+\.\ds\n$/);
  const [entry] = await new History(dir).read();
  expect(entry).toMatchObject({ action: "up", result: "ok", changed: ["service1", "service2"] });
  expect(entry?.settings?.service1).toMatchObject({ LOG_LEVEL: "info", MAX_BODY_BYTES: "16384" });
  expect(entry?.settings?.service2).toMatchObject({ SERVICE1_RETRIES: "2" });
  expect(entry?.params.service1.limits).toEqual({ memory: "256m", cpus: "1.0" });
  expect(new Journal(dir).read()).toBeNull();
});

test("a failed gate restores only that step: exit 3, history keeps what runs again", async () => {
  const dir = fresh();
  await up(fakeTarget(dir, {}).target, context(dir), { plan: plan("1.0.0"), action: "up", lock });
  const { target, calls } = fakeTarget(dir, { failGate: ["service1:probe"] });
  const ctx = context(dir);
  const error = await failure(up(target, ctx, { plan: plan("2.0.0"), action: "up", lock }));
  expect(error.exitCode).toBe(ExitCode.rolledBack);
  expect(error.message).toBe("service1 2.0.0 failed its gate (service1 is unhealthy); restored: service1 is back");
  expect(calls).toContain("recover service1 at probe (failed)");
  expect(calls).not.toContain("prepare service2");
  expect(calls).not.toContain("retire service1");
  expect(ctx.err.join("")).toContain("logs of service1");
  const [entry] = await new History(dir).read();
  expect(entry).toMatchObject({
    result: "rolled-back",
    changed: [],
    versions: { service1: "1.0.0" },
    requested: { service1: "2.0.0" },
  });
  expect(new Journal(dir).read()).toBeNull();
});

test("a failure that is not a gate, after the first change, restores too: exit 3", async () => {
  const dir = fresh();
  const error = await failure(
    up(fakeTarget(dir, { failHard: ["service2:start"] }).target, context(dir), {
      plan: plan("1.0.0"),
      action: "up",
      lock,
    }),
  );
  expect(error.exitCode).toBe(ExitCode.rolledBack);
  expect(error.message).toContain('service2 1.0.0 failed at "start" (compose broke at start); restored');
  const [entry] = await new History(dir).read();
  expect(entry).toMatchObject({ result: "rolled-back", changed: ["service1"] });
  expect(entry?.params.service2.replicas).toBe(0);
});

test("a failure at the canary that is not a gate, with nothing changed, is exit 1", async () => {
  const dir = fresh();
  const error = await failure(
    up(fakeTarget(dir, { failHard: ["service1:canary"] }).target, context(dir), {
      plan: plan("1.0.0"),
      action: "up",
      lock,
    }),
  );
  expect(error.exitCode).toBe(ExitCode.failed);
  expect((await new History(dir).read())[0]).toMatchObject({ result: "failed", message: "compose broke at canary" });
});

test("a failed restore is exit 4; the journal stays for the next command, the row says what is left", async () => {
  const dir = fresh();
  const error = await failure(
    up(fakeTarget(dir, { failGate: ["service2:health"], restoreFails: true }).target, context(dir), {
      plan: plan("1.0.0"),
      action: "up",
      lock,
    }),
  );
  expect(error.exitCode).toBe(ExitCode.restoreFailed);
  expect(error.message).toContain("restore failed: restore broke");
  const [entry] = await new History(dir).read();
  expect(entry?.result).toBe("restore-failed");
  expect(entry?.left).toContain('half done at "health"');
  expect(new Journal(dir).read()).toMatchObject({ step: { services: ["service2"], phase: "health" } });
});

test("both services in one step (Kubernetes): one restore for both, a service that never ran recorded at 0 replicas", async () => {
  const dir = fresh();
  const { target, calls } = fakeTarget(dir, { together: true, failGate: ["service2:verify"] });
  const error = await failure(up(target, context(dir), { plan: plan("1.0.0"), action: "up", lock }));
  expect(error.exitCode).toBe(ExitCode.rolledBack);
  expect(calls.filter((c) => c.startsWith("recover"))).toEqual(["recover service1+service2 at verify (failed)"]);
  expect(error.message).toStartWith("service1 1.0.0 and service2 1.0.0 failed its gate");
  const [entry] = await new History(dir).read();
  expect(entry?.params.service1.replicas).toBe(0);
});

test("an image that cannot be resolved changes nothing: exit 1, recorded as failed", async () => {
  const dir = fresh();
  const { target, calls } = fakeTarget(dir, { resolveFails: true });
  const error = await failure(up(target, context(dir), { plan: plan("1.0.0"), action: "up", lock }));
  expect(error.exitCode).toBe(ExitCode.failed);
  expect(calls.some((c) => c.startsWith("prepare"))).toBe(false);
  expect((await new History(dir).read())[0]).toMatchObject({ result: "failed", message: "no such tag" });
});

test("SIGINT during a phase: that step is undone, nothing after it runs, an interrupted row, exit 130", async () => {
  const dir = fresh();
  await up(fakeTarget(dir, {}).target, context(dir), { plan: plan("1.0.0"), action: "up", lock });
  const guard = new InterruptGuard();
  const { target, calls } = fakeTarget(dir, { during: { "service1:health": () => guard.receive("SIGINT") } });
  const error = await failure(up(target, context(dir), { plan: plan("2.0.0"), action: "up", lock, interrupt: guard }));
  expect(error.exitCode).toBe(ExitCode.interrupted);
  expect(calls).toContain("recover service1 at health (interrupted)");
  expect(calls).not.toContain("probe service1");
  expect(calls).not.toContain("prepare service2");
  const [entry] = await new History(dir).read();
  expect(entry).toMatchObject({ result: "interrupted", versions: { service1: "1.0.0" }, changed: [] });
  expect(entry?.message).toContain('interrupted by SIGINT during "health" of service1 2.0.0; restored');
  expect(new Journal(dir).read()).toBeNull();
});

test("SIGINT while images are resolved: nothing changed, an interrupted row, exit 130", async () => {
  const dir = fresh();
  const guard = new InterruptGuard();
  const { target, calls } = fakeTarget(dir, { duringResolve: () => guard.receive("SIGINT") });
  const error = await failure(up(target, context(dir), { plan: plan("1.0.0"), action: "up", lock, interrupt: guard }));
  expect(error.exitCode).toBe(ExitCode.interrupted);
  expect(calls.some((c) => c.startsWith("prepare"))).toBe(false);
  expect((await new History(dir).read())[0]).toMatchObject({
    result: "interrupted",
    message: "interrupted while resolving images; nothing was changed",
  });
});

test("SIGTERM while the old containers are retired: the step is finished, exit 143", async () => {
  const dir = fresh();
  await up(fakeTarget(dir, {}).target, context(dir), { plan: plan("1.0.0"), action: "up", lock });
  const guard = new InterruptGuard();
  const { target, calls } = fakeTarget(dir, { during: { "service1:retire": () => guard.receive("SIGTERM") } });
  const error = await failure(up(target, context(dir), { plan: plan("2.0.0"), action: "up", lock, interrupt: guard }));
  expect(error.exitCode).toBe(ExitCode.terminated);
  expect(calls).toContain("recover service1 at retire (interrupted)");
  const [entry] = await new History(dir).read();
  expect(entry).toMatchObject({ result: "interrupted", versions: { service1: "2.0.0" }, changed: ["service1"] });
});

test("a journal left by a killed deploy is repaired by the next command, which records it and goes on", async () => {
  const dir = fresh();
  await up(fakeTarget(dir, {}).target, context(dir), { plan: plan("1.0.0"), action: "up", lock });
  const dead = Bun.spawnSync(["true"]).pid;
  const previous = await new History(dir).lastGood();
  const running = perService((s) => previous.states[s] as ServiceState);
  new Journal(dir).write({
    format: 1,
    owner: { pid: dead, host: hostname(), bootId: null, startTicks: null },
    action: "up",
    startedAt: "2026-01-01T00:00:00.000Z",
    running,
    port: 0,
    step: {
      services: ["service1"],
      phase: "start",
      previous: { service1: running.service1 },
      target: { service1: { ...running.service1, version: "9.9.9" } },
      port: { previous: 0, target: 0 },
      oldContainers: ["old-1"],
      canary: null,
    },
  });
  const { target, calls } = fakeTarget(dir, {});
  await up(target, context(dir), { plan: plan("1.1.0"), action: "up", lock });
  expect(calls.slice(0, 4)).toEqual([
    "preflight",
    "resume service1 at start",
    "recover service1 at start (interrupted)",
    "resolve",
  ]);
  const [ok, repaired] = await new History(dir).read();
  expect(ok).toMatchObject({ result: "ok", versions: { service1: "1.1.0" } });
  expect(repaired).toMatchObject({ result: "interrupted", versions: { service1: "1.0.0" } });
  expect(repaired?.message).toContain(`pid ${dead} stopped with "start" half done`);
  expect(new Journal(dir).read()).toBeNull();
});

test("a journal whose writer still runs is not repaired: exit 1", async () => {
  const dir = fresh();
  await up(fakeTarget(dir, {}).target, context(dir), { plan: plan("1.0.0"), action: "up", lock });
  const previous = await new History(dir).lastGood();
  new Journal(dir).write({
    ...Journal.begin(
      "up",
      perService((s) => previous.states[s] as ServiceState),
      0,
    ),
  });
  const error = await failure(
    up(fakeTarget(dir, {}).target, context(dir), { plan: plan("1.1.0"), action: "up", lock }),
  );
  expect(error.exitCode).toBe(ExitCode.failed);
  expect(error.message).toContain("that process still runs");
});

test("a state dir that cannot be written stops the deploy before anything changes: exit 1", async () => {
  const dir = fresh();
  mkdirSync(join(dir, "journal.json"), { recursive: true });
  const { target, calls } = fakeTarget(dir, {});
  const error = await failure(up(target, context(dir), { plan: plan("1.0.0"), action: "up", lock }));
  expect(error.exitCode).toBe(ExitCode.failed);
  expect(error.message).toContain("cannot write the deploy state");
  expect(calls.some((c) => c.startsWith("canary"))).toBe(false);
});

test("a state write that fails after a finished step puts that step back too, so history stays true: exit 3", async () => {
  const dir = fresh();
  await up(fakeTarget(dir, {}).target, context(dir), { plan: plan("1.0.0"), action: "up", lock });
  const { target, calls } = fakeTarget(dir, {
    during: {
      "service1:verify": () => {
        rmSync(join(dir, "journal.json"));
        mkdirSync(join(dir, "journal.json"));
      },
    },
  });
  const error = await failure(up(target, context(dir), { plan: plan("2.0.0"), action: "up", lock }));
  rmSync(join(dir, "journal.json"), { recursive: true });
  expect(error.exitCode).toBe(ExitCode.rolledBack);
  expect(calls).toContain("recover service1 at restore (failed)");
  const [entry] = await new History(dir).read();
  expect(entry).toMatchObject({ result: "rolled-back", changed: [], versions: { service1: "1.0.0" } });
});

test("plain rollback goes back only for what the last deploy changed, through up", async () => {
  const dir = fresh();
  await up(fakeTarget(dir, {}).target, context(dir), { plan: plan("1.0.0", "1.0.0"), action: "up", lock });
  await up(fakeTarget(dir, {}).target, context(dir), { plan: plan("1.0.0", "2.0.0"), action: "up", lock });
  // The last deploy changed service1 only (service2 stays 2.0.0).
  const { target: t3 } = fakeTarget(dir, {});
  t3.steps = async () => [["service1"]];
  await up(t3, context(dir), { plan: plan("1.1.0", "2.0.0"), action: "up", lock });
  const { target, calls } = fakeTarget(dir, {});
  target.steps = async (p, prev) =>
    (["service1", "service2"] as const)
      .filter((s) => prev.states[s]?.version !== p.services[s].version)
      .map((s) => [s]);
  const notes: string[] = [];
  const io: Io = { stdout: () => {}, stderr: (t) => void notes.push(t), env: {}, tty: false };
  const ctx: TargetContext = { project: "p", stateDir: dir, stateRoot: root, progress: new Progress(io, false), io };
  await rollback(target, ctx, { services: ["service1", "service2"], named: false, timeoutMs: 1000, lock });
  expect(calls).toContain("canary service1");
  expect(calls).not.toContain("canary service2");
  // The diff first, as for every change.
  expect(notes.join("")).toContain(
    "  changes to project p (compose) from what runs now:\n    service1: version 1.1.0 → 1.0.0",
  );
  expect(notes.join("")).toContain("    service2: no change\n");
  const [entry] = await new History(dir).read();
  expect(entry).toMatchObject({ action: "rollback", result: "ok", versions: { service1: "1.0.0", service2: "2.0.0" } });
});

test("rollback with nothing recorded and no platform revisions: exit 1", async () => {
  const dir = fresh();
  const error = await failure(
    rollback(fakeTarget(dir, {}).target, context(dir), {
      services: ["service1", "service2"],
      named: false,
      timeoutMs: 1000,
      lock,
    }),
  );
  expect(error.exitCode).toBe(ExitCode.failed);
  expect(error.message).toStartWith("nothing to roll back");
});

describe("an empty diff (apply)", () => {
  const given = NOTHING_GIVEN;
  const healthy = (
    state: Record<ServiceName, ServiceState | null>,
    override: Partial<Record<ServiceName, object>> = {},
  ) =>
    ({
      services: perService((s) => ({
        version: state[s]?.version ?? null,
        image: state[s]?.image ?? null,
        digest: state[s]?.digest ?? null,
        replicas: state[s]?.replicas ?? 0,
        health: "healthy",
        url: null,
        ...override[s],
      })),
      edge: edgeRow(state.service2?.edge),
    }) as Awaited<ReturnType<Target["status"]>>;
  /** The edge's status row as the Compose target reports it for the recorded edge. */
  const edgeRow = (edge: { image: string; digest: string | null } | undefined) =>
    edge
      ? { version: "2.6.2", image: edge.image, digest: edge.digest, replicas: 1, health: "healthy", url: null }
      : null;

  async function deployed() {
    const dir = fresh();
    await up(fakeTarget(dir, {}).target, context(dir), { plan: plan("1.0.0"), action: "up", lock });
    const previous = await new History(dir).lastGood();
    return { dir, previous };
  }

  test("what history names runs, healthy: one status query, `nothing to change`, no lock, no row", async () => {
    const { dir, previous } = await deployed();
    const { target, calls } = fakeTarget(dir, {});
    let queries = 0;
    target.status = async () => {
      queries++;
      return healthy(previous.states);
    };
    const ctx = context(dir);
    await apply(target, ctx, { plan: plan("9.9.9"), given, reset: false, dryRun: false, json: false, lock });
    expect(queries).toBe(1);
    expect(calls).toEqual([]);
    expect(ctx.out.join("")).toBe("nothing to change: service1 1.0.0, service2 1.0.0 runs as recorded\n");
    expect(await new History(dir).read()).toHaveLength(1);
  });

  test("a replica missing: it says what differs and deploys to put it right", async () => {
    const { dir, previous } = await deployed();
    const { target, calls } = fakeTarget(dir, {});
    target.status = async () => healthy(previous.states, { service1: { replicas: 1 } });
    const notes: string[] = [];
    const io: Io = { stdout: () => {}, stderr: (t) => void notes.push(t), env: {}, tty: false };
    const ctx: TargetContext = { project: "p", stateDir: dir, stateRoot: root, progress: new Progress(io, false), io };
    await apply(target, ctx, { plan: plan("9.9.9"), given, reset: false, dryRun: false, json: false, lock });
    expect(notes.join("")).toContain(
      "what runs differs from the record (service1 runs 1 x timekit/service1:1.0.0-pinned, recorded 2 x timekit/service1:1.0.0-pinned)",
    );
    expect(calls).toContain("preflight");
    expect(await new History(dir).read()).toHaveLength(2);
  });

  test("the recorded edge not running: it says so and deploys to put it right", async () => {
    const { dir, previous } = await deployed();
    const { target, calls } = fakeTarget(dir, {});
    target.status = async () => ({ ...healthy(previous.states), edge: null });
    const notes: string[] = [];
    const io: Io = { stdout: () => {}, stderr: (t) => void notes.push(t), env: {}, tty: false };
    const ctx: TargetContext = { project: "p", stateDir: dir, stateRoot: root, progress: new Progress(io, false), io };
    await apply(target, ctx, { plan: plan("9.9.9"), given, reset: false, dryRun: false, json: false, lock });
    expect(notes.join("")).toContain("what runs differs from the record (the recorded edge does not run)");
    expect(calls).toContain("preflight");
  });

  test("a journal left by a killed deploy: no shortcut, the deploy repairs it", async () => {
    const { dir, previous } = await deployed();
    const { target } = fakeTarget(dir, {});
    let queries = 0;
    target.status = async () => {
      queries++;
      return healthy(previous.states);
    };
    new Journal(dir).write({
      ...Journal.begin(
        "up",
        perService((s) => previous.states[s] as ServiceState),
        0,
      ),
    });
    const ctx = context(dir);
    await apply(target, ctx, { plan: plan("9.9.9"), given, reset: false, dryRun: false, json: false, lock }).catch(
      () => undefined,
    );
    expect(queries).toBe(0);
  });
});

describe("down twice, and notes of many lines", () => {
  test("a second `down` says nothing was running and adds no row", async () => {
    const dir = fresh();
    await up(fakeTarget(dir, {}).target, context(dir), { plan: plan("1.0.0"), action: "up", lock });
    const { target } = fakeTarget(dir, {});
    let removals = 0;
    target.down = async () => void removals++;
    target.status = async () =>
      ({
        services: perService(() => ({
          version: null,
          image: null,
          digest: null,
          replicas: 0,
          health: "down",
          url: null,
        })),
      }) as Awaited<ReturnType<Target["status"]>>;
    const first = context(dir);
    await down(target, first, { volumes: false, lock });
    expect(first.out.join("")).toStartWith("removed project p");
    const second = context(dir);
    await down(target, second, { volumes: false, lock });
    expect(second.out.join("")).toBe("nothing was running for project p; nothing removed\n");
    expect(removals).toBe(1);
    expect((await new History(dir).read()).map((e) => e.action)).toEqual(["down", "up"]);
  });

  test("a `down` after containers came back (started by hand) removes them and records it", async () => {
    const dir = fresh();
    await up(fakeTarget(dir, {}).target, context(dir), { plan: plan("1.0.0"), action: "up", lock });
    const { target } = fakeTarget(dir, {});
    target.down = async () => {};
    target.status = async () =>
      ({
        services: perService(() => ({
          version: "1.0.0",
          image: "x",
          digest: null,
          replicas: 1,
          health: "healthy",
          url: null,
        })),
      }) as Awaited<ReturnType<Target["status"]>>;
    await down(target, context(dir), { volumes: false, lock });
    await down(target, context(dir), { volumes: false, lock });
    expect((await new History(dir).read()).map((e) => e.action)).toEqual(["down", "down", "up"]);
  });

  test("a note of many lines keeps its first line in history and goes whole to a file it names", async () => {
    const dir = fresh();
    const history = new History(dir);
    const { target } = fakeTarget(dir, {});
    const running = perService(() => stateOf(plan("1.0.0").services.service1));
    const buildLog = [
      "service1 dev: build failed (exit 1):",
      ...Array.from({ length: 17 }, (_, i) => `    #${i} step`),
    ].join("\n");
    await history.append({
      ...entryFromState("up", "failed", running, [], 8080, 0, buildLog),
      ...target.historyFields,
    });
    const [entry] = await history.read();
    const file = /\(full text: (\S+)\)$/.exec(entry?.message ?? "")?.[1] as string;
    expect(entry?.message).toBe(`service1 dev: build failed (exit 1) (full text: ${file})`);
    expect(file.startsWith(dir)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe(`message:\n${buildLog}\n`);
  });
});

test("a deploy from a deploy file records the file's path in its history row", async () => {
  const dir = fresh();
  await up(fakeTarget(dir, {}).target, context(dir), {
    plan: plan("1.0.0"),
    action: "up",
    lock,
    file: "/srv/deploy.yaml",
  });
  expect((await new History(dir).read())[0]?.file).toBe("/srv/deploy.yaml");
});

test("a gate's poll waits longer each time, up to its cap", () => {
  const wait = backoff(100, 400);
  expect(Array.from({ length: 6 }, wait)).toEqual([100, 150, 225, 338, 400, 400]);
});
