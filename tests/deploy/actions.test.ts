/**
 * The actions over the Target interface, with a recording in-memory target: what `up` and
 * `rollback` do with steps, failed gates, failed restores and failed image resolution, the exit
 * codes they end with and what history keeps. The real drivers are tested against a real engine
 * (compose.test.ts, pipeline.test.ts) and, for Kubernetes, up to where a cluster must answer.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rollback } from "../../lib/deploy/actions/rollback";
import { up } from "../../lib/deploy/actions/up";
import { History, type LastGood } from "../../lib/deploy/history";
import { type Plan, planFor, type ServiceState, stateOf } from "../../lib/deploy/plan";
import { Progress } from "../../lib/deploy/progress";
import { DeployError, ExitCode, GateFailed } from "../../lib/errors";
import type { Io } from "../../lib/io";
import { perService, type ServiceName } from "../../lib/services";
import type { Restored, Rollout, Target, TargetContext } from "../../lib/targets/target";

const root = mkdtempSync(join(tmpdir(), "timekit-actions-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Script {
  /** Services whose gate fails. */
  failGate?: ServiceName[];
  restoreFails?: boolean;
  resolveFails?: boolean;
  /** One step with both services (Kubernetes) instead of one per service (Compose). */
  together?: boolean;
}

/** A target that runs nothing: it records what the action asked, and fails where told. */
function fakeTarget(dir: string, script: Script) {
  const calls: string[] = [];
  const target: Target = {
    kind: "compose",
    stateDir: dir,
    historyFields: {},
    undo: null,
    dryRun: async () => ({ text: "", json: {} }),
    preflight: async () => void calls.push("preflight"),
    async resolveImages(plan: Plan) {
      calls.push("resolve");
      if (script.resolveFails) throw new DeployError("no such tag");
      return {
        ...plan,
        services: perService((s) => ({
          ...plan.services[s],
          image: `${plan.services[s].image}-pinned`,
          digest: "sha256:1",
        })),
      };
    },
    steps: async () => (script.together ? [["service1", "service2"]] : [["service1"], ["service2"]]),
    rollout(plan, step, _current, previous: LastGood): Rollout {
      const name = step.join("+");
      return {
        apply: async () => void calls.push(`apply ${name}`),
        async verify() {
          calls.push(`verify ${name}`);
          const failed = step.find((s) => script.failGate?.includes(s));
          if (failed) throw new GateFailed(`${failed} is unhealthy`, `logs of ${failed}`);
        },
        finish: async () => void calls.push(`finish ${name}`),
        async restore(): Promise<Restored> {
          calls.push(`restore ${name}`);
          if (script.restoreFails) return { ok: false, message: "restore broke", states: {} };
          const states: Partial<Record<ServiceName, ServiceState>> = {};
          for (const s of step) states[s] = previous.states[s] ?? { ...stateOf(plan.services[s]), replicas: 0 };
          return { ok: true, message: `${name} is back`, states };
        },
      };
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
  return { project: "p", stateDir: dir, progress: new Progress(io, true), io, out, err };
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

test("a passing deploy applies, verifies and finishes every step in order, then records ok", async () => {
  const dir = fresh();
  const { target, calls } = fakeTarget(dir, {});
  const ctx = context(dir);
  const running = await up(target, ctx, { plan: plan("1.0.0"), action: "up", lock });
  expect(calls).toEqual([
    "preflight",
    "resolve",
    "apply service1",
    "verify service1",
    "finish service1",
    "apply service2",
    "verify service2",
    "finish service2",
  ]);
  expect(running.service1.image).toBe("timekit/service1:1.0.0-pinned");
  expect(ctx.out.join("")).toMatch(/^deployed service1 1\.0\.0, service2 1\.0\.0 in \d+\.\ds\n$/);
  const [entry] = await new History(dir).read();
  expect(entry).toMatchObject({ action: "up", result: "ok", changed: ["service1", "service2"] });
});

test("a failed gate restores only that step: exit 3, history keeps what runs again", async () => {
  const dir = fresh();
  await up(fakeTarget(dir, {}).target, context(dir), { plan: plan("1.0.0"), action: "up", lock });
  const { target, calls } = fakeTarget(dir, { failGate: ["service1"] });
  const ctx = context(dir);
  const error = await failure(up(target, ctx, { plan: plan("2.0.0"), action: "up", lock }));
  expect(error.exitCode).toBe(ExitCode.rolledBack);
  expect(error.message).toBe("service1 2.0.0 failed its gate (service1 is unhealthy); restored: service1 is back");
  expect(calls).not.toContain("apply service2");
  expect(calls).not.toContain("finish service1");
  expect(ctx.err.join("")).toContain("logs of service1");
  const [entry] = await new History(dir).read();
  expect(entry).toMatchObject({
    result: "rolled-back",
    versions: { service1: "1.0.0" },
    requested: { service1: "2.0.0" },
  });
});

test("a failed restore is exit 4", async () => {
  const dir = fresh();
  const error = await failure(
    up(fakeTarget(dir, { failGate: ["service2"], restoreFails: true }).target, context(dir), {
      plan: plan("1.0.0"),
      action: "up",
      lock,
    }),
  );
  expect(error.exitCode).toBe(ExitCode.restoreFailed);
  expect(error.message).toContain("restore failed: restore broke");
  expect((await new History(dir).read())[0]?.result).toBe("restore-failed");
});

test("both services in one step (Kubernetes): one restore for both, a service that never ran recorded at 0 replicas", async () => {
  const dir = fresh();
  const { target, calls } = fakeTarget(dir, { together: true, failGate: ["service2"] });
  const error = await failure(up(target, context(dir), { plan: plan("1.0.0"), action: "up", lock }));
  expect(error.exitCode).toBe(ExitCode.rolledBack);
  expect(calls.filter((c) => c.startsWith("restore"))).toEqual(["restore service1+service2"]);
  expect(error.message).toStartWith("service1 1.0.0 and service2 1.0.0 failed its gate");
  const [entry] = await new History(dir).read();
  expect(entry?.params.service1.replicas).toBe(0);
});

test("an image that cannot be resolved changes nothing: exit 1, recorded as failed", async () => {
  const dir = fresh();
  const { target, calls } = fakeTarget(dir, { resolveFails: true });
  const error = await failure(up(target, context(dir), { plan: plan("1.0.0"), action: "up", lock }));
  expect(error.exitCode).toBe(ExitCode.failed);
  expect(calls.some((c) => c.startsWith("apply"))).toBe(false);
  expect((await new History(dir).read())[0]).toMatchObject({ result: "failed", message: "no such tag" });
});

test("rollback goes back to the newest good state that differs, through up", async () => {
  const dir = fresh();
  for (const v of ["1.0.0", "1.1.0"])
    await up(fakeTarget(dir, {}).target, context(dir), { plan: plan(v), action: "up", lock });
  const { target, calls } = fakeTarget(dir, {});
  await rollback(target, context(dir), { services: ["service1"], named: true, timeoutMs: 1000, lock });
  expect(calls).toContain("apply service1");
  const [entry] = await new History(dir).read();
  expect(entry).toMatchObject({ action: "rollback", result: "ok", versions: { service1: "1.0.0", service2: "1.0.0" } });
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
