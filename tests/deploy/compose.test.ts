/**
 * The Compose target against the real engine: deploy → upgrade one service (the other is not
 * restarted) → a version whose health check fails (automatic rollback of that service only,
 * exit 3) → `rollback` → a missing tag fails with exit 1 while the stack keeps answering →
 * status/history JSON match what ran → down. Uses fixture images and a stand-in compose file
 * (fixtures/), a unique project name and a free loopback port; always cleans up.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { $ } from "zx";
import { dockerOrSkip, freePort } from "./fixtures/docker";
import { buildTestImage, ensureBinaries } from "./fixtures/images";

const ROOT = resolve(import.meta.dir, "../..");
const hasDocker = await dockerOrSkip("deploy compose suite");
const project = `timekit-test-deploy-${process.pid}`;
const stateDir = mkdtempSync(join(tmpdir(), "timekit-deploy-compose-"));
let port = 0;

async function deploy(args: string[]) {
  const proc = Bun.spawn(["bun", "deploy.ts", `--project=${project}`, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      TIMEKIT_STATE_DIR: stateDir,
      TIMEKIT_COMPOSE_FILE: join(import.meta.dir, "fixtures/compose.yaml"),
      REGISTRY: "",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

async function containerIds(service: string): Promise<string[]> {
  const out =
    await $`docker ps -q --filter label=com.docker.compose.project=${project} --filter label=com.docker.compose.service=${service}`.quiet();
  return out.stdout.split("\n").filter(Boolean).sort();
}

/** service2 answers through its published port with data from service1 (retrying: DNS settles). */
async function answers(deadlineMs = 40_000): Promise<boolean> {
  const end = performance.now() + deadlineMs;
  while (performance.now() < end) {
    const res = await fetch(`http://127.0.0.1:${port}/v1/format`).catch(() => null);
    if (res?.status === 200 && typeof ((await res.json()) as { epochMs?: unknown }).epochMs === "number") return true;
    await Bun.sleep(250);
  }
  return false;
}

const base = (timeout = "30s") => [
  "--version_service2=1.0",
  "--additional_param_1=2",
  `--port=${port}`,
  `--health_timeout=${timeout}`,
  "--quiet",
];

describe.skipIf(!hasDocker)("deploy with Compose", () => {
  beforeAll(async () => {
    port = await freePort();
    await ensureBinaries();
    await Promise.all([
      buildTestImage("service1", "1.0"),
      buildTestImage("service1", "1.1"),
      buildTestImage("service1", "9.9", { bad: true }),
      buildTestImage("service2", "1.0"),
    ]);
  }, 180_000);

  afterAll(async () => {
    await deploy(["down", "--force_unlock", "--quiet"]);
    await $`docker rm -f ${await containerIds("service1")} ${await containerIds("service2")}`.quiet().nothrow();
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  test("deploy, upgrade one service, failed gate rolls back, rollback, missing tag, status, history, down", async () => {
    // 1. Deploy A.
    let r = await deploy(["--version_service1=1.0", ...base()]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`deployed service1 1.0 x2, service2 1.0 at http://127.0.0.1:${port}`);
    expect(await containerIds("service1")).toHaveLength(2);
    expect(await answers()).toBe(true);
    const service2Before = await containerIds("service2");

    // 2. Upgrade service1 only: service2's container is the same one.
    r = await deploy(["--version_service1=1.1", ...base()]);
    expect(r.code).toBe(0);
    expect(await containerIds("service2")).toEqual(service2Before);

    // 3. A version that never turns healthy: exit 3, service1 back at 1.1 with 2 replicas.
    r = await deploy(["--version_service1=9.9", ...base("20s")]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("service1 9.9 failed its gate");
    expect(r.stderr).toContain("restored: service1 is back at 1.1 x2");
    expect(r.stderr).toContain("health log");
    let status = JSON.parse((await deploy(["status", "--json"])).stdout);
    expect(status.services.service1).toMatchObject({ version: "1.1", replicas: 2, health: "healthy" });
    expect(status.services.service2).toMatchObject({
      version: "1.0",
      replicas: 1,
      health: "healthy",
      url: `http://127.0.0.1:${port}`,
    });
    expect(await containerIds("service2")).toEqual(service2Before);

    // 4. rollback: service1 goes to the good state before 1.1.
    r = await deploy(["rollback", "--service=service1"]);
    expect(r.code).toBe(0);
    status = JSON.parse((await deploy(["status", "--json"])).stdout);
    expect(status.services.service1).toMatchObject({ version: "1.0", replicas: 2, health: "healthy" });
    expect(status.services.service1.digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    // 5. A tag that does not exist fails before anything is touched; the stack still answers.
    const before = await containerIds("service1");
    r = await deploy(["--version_service1=7.7", ...base()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("image timekit/service1:7.7 is not in the local engine");
    expect(await containerIds("service1")).toEqual(before);
    expect(await answers()).toBe(true);

    // 6. History, newest first, matches what ran.
    const history = JSON.parse((await deploy(["history", "--json"])).stdout) as Array<{
      action: string;
      result: string;
      versions: { service1: string; service2: string };
      params: { service1: { replicas: number } };
    }>;
    expect(history.map((e) => [e.action, e.result, e.versions.service1])).toEqual([
      ["up", "failed", "1.0"],
      ["rollback", "ok", "1.0"],
      ["up", "rolled-back", "1.1"],
      ["up", "ok", "1.1"],
      ["up", "ok", "1.0"],
    ]);
    expect(history[0]?.params.service1.replicas).toBe(2);

    // 7. down keeps history.
    r = await deploy(["down", "--quiet"]);
    expect(r.code).toBe(0);
    expect(await containerIds("service1")).toEqual([]);
    expect(JSON.parse((await deploy(["history", "--json"])).stdout)).toHaveLength(6);
  }, 240_000);
});
