/**
 * Unspecified means unchanged, and the diff before every change: `up --dry-run` against a
 * recorded deployment (a history file; no engine is asked), one row per field, text and JSON.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deploy as run } from "./support";

const stateDir = mkdtempSync(join(tmpdir(), "timekit-reuse-cli-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

const RECORDED = {
  time: "2026-01-01T00:00:00.000Z",
  action: "up",
  result: "ok",
  versions: { service1: "1.0.2", service2: "1.1.0" },
  params: {
    service1: { replicas: 5, env: { DRAIN_TIMEOUT_MS: "2000" }, limits: { memory: "128m", cpus: "0.5" } },
    service2: { replicas: 1, env: { LOG_LEVEL: "warn" }, limits: { memory: "128m", cpus: "0.5" } },
  },
  images: { service1: "timekit/service1:1.0.2", service2: "timekit/service2:1.1.0" },
  digests: { service1: `sha256:${"1".repeat(64)}`, service2: `sha256:${"2".repeat(64)}` },
  port: 18080,
  changed: ["service1", "service2"],
  durationMs: 1000,
};

interface ServiceJson {
  version: string;
  replicas: number;
  env: Record<string, string>;
  limits: { memory: string; cpus: string };
}
interface PlanJson {
  port: number;
  services: Record<"service1" | "service2", ServiceJson>;
}
interface DiffJson {
  port: object | null;
  services: Record<"service1" | "service2", { changes: object[] }>;
}

let projects = 0;
/** A project whose history records RECORDED as what runs. */
function recordedProject(): string {
  const project = `timekit-test-reuse-${++projects}`;
  mkdirSync(join(stateDir, project), { recursive: true });
  writeFileSync(join(stateDir, project, "history.jsonl"), `${JSON.stringify(RECORDED)}\n`);
  return project;
}

const dryRun = async (args: string[], project = recordedProject()) => {
  const r = await run(["--dry-run", "--json", `--project=${project}`, ...args], { TIMEKIT_STATE_DIR: stateDir });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};

type Field = [
  name: string,
  args: string[],
  read: (plan: PlanJson) => unknown,
  kept: unknown,
  given: unknown,
  change: object,
];

const FIELDS: Field[] = [
  [
    "service1's version",
    ["--version_service1=1.0.3"],
    (p) => p.services.service1.version,
    "1.0.2",
    "1.0.3",
    { service: "service1", field: "version", from: "1.0.2", to: "1.0.3" },
  ],
  [
    "service2's version",
    ["--version_service2=1.2.0"],
    (p) => p.services.service2.version,
    "1.1.0",
    "1.2.0",
    { service: "service2", field: "version", from: "1.1.0", to: "1.2.0" },
  ],
  [
    "replicas",
    ["--additional_param_1=2"],
    (p) => p.services.service1.replicas,
    5,
    2,
    { service: "service1", field: "replicas", from: 5, to: 2 },
  ],
  [
    "replicas by its alias",
    ["--replicas_service1=3"],
    (p) => p.services.service1.replicas,
    5,
    3,
    { service: "service1", field: "replicas", from: 5, to: 3 },
  ],
  [
    "a service2 setting",
    ["--log_level_service2=debug"],
    (p) => p.services.service2.env.LOG_LEVEL,
    "warn",
    "debug",
    { service: "service2", field: "env.LOG_LEVEL", from: "warn", to: "debug" },
  ],
  [
    "a setting not set before",
    ["--upstream_retries=4"],
    (p) => p.services.service2.env.SERVICE1_RETRIES,
    undefined,
    "4",
    { service: "service2", field: "env.SERVICE1_RETRIES", from: null, to: "4" },
  ],
  [
    "a service1 setting",
    ["--drain_timeout_service1=3s"],
    (p) => p.services.service1.env.DRAIN_TIMEOUT_MS,
    "2000",
    "3000",
    { service: "service1", field: "env.DRAIN_TIMEOUT_MS", from: "2000", to: "3000" },
  ],
  [
    "memory limit",
    ["--mem_limit=256m"],
    (p) => p.services.service1.limits.memory,
    "128m",
    "256m",
    { service: "service1", field: "memory", from: "128m", to: "256m" },
  ],
  [
    "cpu limit",
    ["--cpus=1"],
    (p) => p.services.service2.limits.cpus,
    "0.5",
    "1.0",
    { service: "service2", field: "cpus", from: "0.5", to: "1.0" },
  ],
  ["port", ["--port=18081"], (p) => p.port, 18080, 18081, { field: "port", from: 18080, to: 18081 }],
];

/** Every change in a diff, flattened, with its service. */
function changes(diff: DiffJson): object[] {
  const all: object[] = [];
  for (const service of ["service1", "service2"] as const) {
    for (const change of diff.services[service].changes) all.push({ service, ...change });
  }
  if (diff.port) all.push(diff.port);
  return all;
}

describe("settings not given keep what runs", () => {
  test("no flags: the plan is what runs, the diff is empty, the images are reused as pinned", async () => {
    const { plan, diff } = await dryRun([]);
    for (const [, , read, kept] of FIELDS) expect(read(plan)).toEqual(kept);
    expect(plan.services.service1.source).toEqual({ kind: "pinned" });
    expect(plan.services.service1.digest).toBe(RECORDED.digests.service1);
    expect(diff.empty).toBe(true);
    expect(diff.firstDeploy).toBe(false);
    expect(changes(diff)).toEqual([]);
  });

  test.each(FIELDS)(
    "%s given: only it changes; every other field keeps what runs",
    async (_name, args, read, _kept, given, change) => {
      const { plan, diff } = await dryRun(args);
      expect(read(plan)).toEqual(given);
      // Every other field (the replicas alias reads the same field as replicas) keeps what runs.
      for (const [, , otherRead, otherKept] of FIELDS) {
        if (String(otherRead) !== String(read)) expect(otherRead(plan)).toEqual(otherKept);
      }
      const shown = changes(diff);
      // A new version is looked up again, so the diff names its version; limits apply to both services.
      expect(shown).toContainEqual(change);
      expect(diff.empty).toBe(false);
    },
  );

  test("--reset: everything not given goes back to its default", async () => {
    const { plan, diff } = await dryRun(["--reset"]);
    expect(plan.services.service1.version).toBe("dev");
    expect(plan.services.service2.version).toBe("dev");
    expect(plan.services.service1.replicas).toBe(1);
    expect(plan.services.service2.env).toEqual({});
    expect(plan.services.service1.limits).toEqual({ memory: "256m", cpus: "1.0" });
    expect(plan.port).toBe(8080);
    expect(changes(diff)).toContainEqual({ service: "service1", field: "replicas", from: 5, to: 1 });
    expect(changes(diff)).toContainEqual({ field: "port", from: 18080, to: 8080 });
  });

  test("a first deploy uses the defaults, and the diff says nothing runs yet", async () => {
    const { plan, diff } = await dryRun([], "timekit-test-reuse-first");
    expect(plan.services.service1.replicas).toBe(1);
    expect(plan.services.service1.source).toEqual({ kind: "build" });
    expect(diff.firstDeploy).toBe(true);
    expect(diff.empty).toBe(false);
  });

  test("after `down`, a new `up` brings back what ran before it, settings kept", async () => {
    const project = recordedProject();
    const down = { ...RECORDED, action: "down", time: "2026-01-02T00:00:00.000Z" };
    writeFileSync(join(stateDir, project, "history.jsonl"), `${JSON.stringify(RECORDED)}\n${JSON.stringify(down)}\n`);
    const { plan } = await dryRun([], project);
    expect(plan.services.service1.replicas).toBe(5);
  });
});

describe("the diff as text", () => {
  test("--dry-run prints each change as from → to, per service, before the plan", async () => {
    const project = recordedProject();
    const r = await run(["--dry-run", `--project=${project}`, "--additional_param_1=2", "--log_level_service2=debug"], {
      TIMEKIT_STATE_DIR: stateDir,
    });
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe(`changes to project ${project} (compose) from what runs now:`);
    expect(lines[1]).toBe("  service1: replicas 5 → 2");
    expect(lines[2]).toBe("  service2: env.LOG_LEVEL warn → debug");
    expect(r.stdout).toContain(`plan for project ${project}`);
  });

  test("nothing given: says nothing changes", async () => {
    const project = recordedProject();
    const r = await run(["--dry-run", `--project=${project}`], { TIMEKIT_STATE_DIR: stateDir });
    expect(r.stdout).toContain("  service1: no change\n  service2: no change\n  nothing to change\n");
  });

  test("dev asked again: the service is rebuilt, and the diff says when that changes nothing", async () => {
    const project = recordedProject();
    const r = await run(["--dry-run", `--project=${project}`, "--version_service2=dev"], {
      TIMEKIT_STATE_DIR: stateDir,
    });
    expect(r.stdout).toContain(
      "  service2: version 1.1.0 → dev; rebuilt from the working tree; unchanged if the build is identical",
    );
  });
});

describe("the edge in front of service2 (Compose) is kept or left out as it runs", () => {
  const EDGE = { image: "timekit/edge:2.6.2-abc", digest: `sha256:${"e".repeat(64)}` };
  /** RECORDED with the edge in front of three service2 replicas. */
  function edgeProject(): string {
    const project = recordedProject();
    const behindEdge = {
      ...RECORDED,
      params: { ...RECORDED.params, service2: { ...RECORDED.params.service2, replicas: 3, edge: EDGE } },
    };
    writeFileSync(join(stateDir, project, "history.jsonl"), `${JSON.stringify(behindEdge)}\n`);
    return project;
  }
  const edgeChanges = (diff: DiffJson) =>
    changes(diff).filter((c) => ["edge", "edge.image", "replicas"].includes((c as { field: string }).field));

  test("no flags: the edge runs on with the image it runs, service2's replicas kept, nothing to change", async () => {
    const { plan, diff } = await dryRun([], edgeProject());
    expect(plan.services.service2.edge).toEqual(EDGE);
    expect(plan.services.service2.replicas).toBe(3);
    expect(diff.empty).toBe(true);
  });

  test("no flags on a stack without the edge: still none", async () => {
    const { plan, diff } = await dryRun([]);
    expect(plan.services.service2.edge).toBeUndefined();
    expect(diff.empty).toBe(true);
  });

  test("--replicas_service2 given: only service2's replicas change, the edge stays", async () => {
    const { plan, diff } = await dryRun(["--replicas_service2=2"], edgeProject());
    expect(plan.services.service2.edge).toEqual(EDGE);
    expect(edgeChanges(diff)).toEqual([{ service: "service2", field: "replicas", from: 3, to: 2 }]);
  });

  test("--no-publish_service2_directly on a stack without the edge: the diff shows the edge coming", async () => {
    const { plan, diff } = await dryRun(["--no-publish_service2_directly"]);
    expect(plan.services.service2.edge?.image).toBe("edge:pending");
    expect(edgeChanges(diff)).toEqual([{ service: "service2", field: "edge", from: "off", to: "on" }]);
    expect(diff.services.service2.resolve).toContain("the edge image is assembled from the local Caddy");
  });

  test("--publish_service2_directly with --replicas_service2=1 drops the edge, both shown", async () => {
    const { plan, diff } = await dryRun(["--publish_service2_directly", "--replicas_service2=1"], edgeProject());
    expect(plan.services.service2.edge).toBeUndefined();
    expect(edgeChanges(diff)).toEqual([
      { service: "service2", field: "replicas", from: 3, to: 1 },
      { service: "service2", field: "edge", from: "on", to: "off" },
    ]);
  });

  test("--reset: the edge again and one service2 replica", async () => {
    const { plan, diff } = await dryRun(["--reset"], edgeProject());
    expect(plan.services.service2.edge?.image).toBe("edge:pending");
    expect(plan.services.service2.replicas).toBe(1);
    expect(edgeChanges(diff)).toContainEqual({ service: "service2", field: "replicas", from: 3, to: 1 });
    const direct = await dryRun(["--reset"]);
    expect(edgeChanges(direct.diff)).toContainEqual({ service: "service2", field: "edge", from: "off", to: "on" });
  });

  test.each([
    [
      "--publish_service2_directly while three replicas run behind the edge",
      ["--publish_service2_directly"],
      edgeProject,
      "--publish_service2_directly leaves one service2 container owning the port, and service2 runs 3 replicas now; add --replicas_service2=1",
    ],
    [
      "--replicas_service2=2 while service2 runs published directly",
      ["--replicas_service2=2"],
      recordedProject,
      "--replicas_service2=2 needs the edge, and service2 runs published directly now; add --no-publish_service2_directly to put the edge in front of it again",
    ],
  ])("%s: exit 2 naming what to add", async (_name, args, project, message) => {
    const r = await run(["--dry-run", `--project=${project()}`, ...args], { TIMEKIT_STATE_DIR: stateDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  test("the text diff names the edge", async () => {
    const r = await run(
      ["--dry-run", `--project=${edgeProject()}`, "--publish_service2_directly", "--replicas_service2=1"],
      {
        TIMEKIT_STATE_DIR: stateDir,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[2]).toBe("  service2: replicas 3 → 1; edge on → off");
  });
});
