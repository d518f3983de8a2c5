/**
 * deploy.ts against the real engine, the project's real compose.yaml and release images pulled
 * from a real registry (`docker-registry`) on 127.0.0.1. The images are the working tree's build
 * under this suite's own names (`timekit-test-deploy-<run>/…`, labelled with the run, removed after),
 * pushed to the registry with `docker push`: the user's `timekit/…` tags are never touched.
 * (Building, publishing, promoting and archives are the release pipeline's: tests/deploy/pipeline.test.ts.)
 *
 * A → B under steady load (zero failed requests; service2 not restarted) → a version whose health
 * check fails (stopped at its canary, exit 3, nothing serving touched) → rollback → a missing tag
 * (exit 1, the stack keeps answering) → two deploys at once → promote, then a deploy of known-good
 * → status/history JSON.
 *
 * Tests run in order and share one stack; each cleans up in afterAll.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOMY_UPSTREAM_FLAGS } from "../integration/processes";
import { deriveVersion, RUN_ID, RUN_LABEL, removeRunImages, runRepository } from "../support/deploy-images";
import { freePort, requireDocker, run, uniqueName } from "../support/docker";
import { testImages } from "../support/images";
import {
  answers,
  cli,
  containerIds,
  deriveImage,
  type Registry,
  removeProject,
  startRegistry,
  steadyClient,
} from "./helpers";

const hasDocker = await requireDocker("deploy compose + registry suite");
const project = uniqueName("deploy");
const work = mkdtempSync(join(tmpdir(), "timekit-deploy-compose-"));
const stateDir = join(work, "state");
const deploy = cli({ TIMEKIT_STATE_DIR: stateDir });
const port = freePort();
const LOCAL = runRepository("deploy");
let registry: Registry | undefined;
let R = "";

const up = (args: string[]) =>
  deploy([
    `--project=${project}`,
    `--registry=${R}`,
    `--local_repository=${LOCAL}`,
    "--version_service2=1.0.0",
    "--additional_param_1=2",
    `--port=${port}`,
    "--quiet",
    ...args,
  ]);
const status = async () => JSON.parse((await deploy(["status", "--json", `--project=${project}`])).stdout);
const env = async (id: string) =>
  (await run(["docker", "inspect", "--format", "{{json .Config.Env}}", id])).stdout.trim();

/** Pushes a local image to the test registry as `R/service:version`. */
async function push(local: string, service: string, version: string): Promise<void> {
  const remote = `${R}/${service}:${version}`;
  for (const argv of [
    ["docker", "tag", local, remote],
    ["docker", "push", remote],
  ]) {
    const out = await run(argv, { timeoutMs: 300_000 });
    if (out.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${out.stderr}`);
  }
}

describe.skipIf(!hasDocker)("deploy with Compose from a real registry", () => {
  beforeAll(async () => {
    registry = await startRegistry();
    R = registry.repo;
    const base = await testImages();
    for (const [service, version] of [
      ["service1", "1.0.0"],
      ["service1", "1.1.0"],
      ["service2", "1.0.0"],
    ] as const) {
      const local = `${LOCAL}/${service}:${version}`;
      await deriveVersion(base[service].id, local, version);
      await push(local, service, version);
    }
    // A release whose health check fails while its server runs (see deriveImage).
    await deriveImage(`${LOCAL}/service1:1.0.0`, `${LOCAL}/service1:9.9.9`, "9.9.9", true, { [RUN_LABEL]: RUN_ID });
    await push(`${LOCAL}/service1:9.9.9`, "service1", "9.9.9");
  }, 600_000);

  afterAll(async () => {
    await deploy(["down", `--project=${project}`, "--force_unlock", "--quiet"]);
    await removeProject(project);
    await registry?.stop();
    await removeRunImages();
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  let service2Container: string[] = [];

  test("deploy A: both services from the registry, pinned by digest", async () => {
    // Roomy budgets for service2's calls to service1 (later deploys keep them): this suite shares
    // 2 cores with the other lanes, and counts failed requests during upgrades, not latency.
    const r = await up(["--version_service1=1.0.0", ...ROOMY_UPSTREAM_FLAGS]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `deployed service1 1.0.0 x2, service2 1.0.0 x1 behind the edge at http://127.0.0.1:${port}`,
    );
    expect(await containerIds(project, "service1")).toHaveLength(2);
    expect(await answers(port)).toBe(true);
    const s = await status();
    expect(s.services.service1.image).toStartWith(`${R}/service1@sha256:`);
    service2Container = await containerIds(project, "service2");
    // status says how to reach each service, and what it says works.
    expect(s.services.service2.reach).toBe(`curl http://127.0.0.1:${port}/v1/format`);
    // service1: each of its two replicas on its own loopback port; the first one answers.
    const reach1 = s.services.service1.reach as string;
    const urls = [...reach1.matchAll(/http:\/\/127\.0\.0\.1:\d+/g)].map((m) => m[0]);
    expect(reach1).toStartWith(`curl ${s.services.service1.url}/v1/timestamp (one replica each: `);
    expect(new Set(urls.slice(1)).size).toBe(2);
    for (const url of new Set(urls)) {
      const answer = await fetch(`${url}/v1/timestamp`);
      expect(answer.status).toBe(200);
      expect(await answer.json()).toHaveProperty("epochMs");
    }
  }, 180_000);

  test("upgrade to B under steady load: zero failed requests, service2 not restarted", async () => {
    const client = steadyClient(port);
    const r = await up(["--version_service1=1.1.0", "--log_level_service1=warn"]);
    await Bun.sleep(3000); // the retired replicas' addresses must age out of service2's cache too
    const stats = await client.stop();
    expect(r.code).toBe(0);
    expect(stats.failures).toEqual([]);
    expect(stats.ok).toBeGreaterThan(20);
    expect(await containerIds(project, "service2")).toEqual(service2Container);
    const s1 = await containerIds(project, "service1");
    expect(s1).toHaveLength(2);
    for (const id of s1) expect(await env(id)).toContain("LOG_LEVEL=warn");
  }, 180_000);

  test("a version whose health check fails stops at its canary: exit 3, nothing serving touched", async () => {
    const before = await containerIds(project, "service1");
    const r = await up(["--version_service1=9.9.9", "--health_timeout=45s", "--log_level_service1=warn"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("service1 9.9.9 failed its gate (canary:");
    expect(r.stderr).toContain("the canary was removed; nothing that serves was touched: service1 is back at 1.1.0 x2");
    expect(r.stderr).toContain("health log");
    expect(await containerIds(project, "service1")).toEqual(before);
    const s = await status();
    expect(s.services.service1).toMatchObject({ version: "1.1.0", replicas: 2, health: "healthy" });
    expect(s.services.service2).toMatchObject({ version: "1.0.0", replicas: 1, url: `http://127.0.0.1:${port}` });
    for (const id of await containerIds(project, "service1")) expect(await env(id)).toContain("LOG_LEVEL=warn");
    expect(await containerIds(project, "service2")).toEqual(service2Container);
    expect(await answers(port)).toBe(true);
  }, 180_000);

  test("rollback puts service1 back at the good state before B", async () => {
    const r = await deploy(["rollback", `--project=${project}`, "--service=service1", "--quiet"]);
    expect(r.code).toBe(0);
    const s = await status();
    expect(s.services.service1).toMatchObject({ version: "1.0.0", replicas: 2, health: "healthy" });
    expect(s.services.service1.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const id of await containerIds(project, "service1")) expect(await env(id)).toContain("LOG_LEVEL=info");
  }, 180_000);

  test("another project on this stack's port: exit 1 naming the stack that holds it", async () => {
    const other = `${project}-other`;
    const r = await deploy([
      `--project=${other}`,
      `--registry=${R}`,
      `--local_repository=${LOCAL}`,
      "--version_service1=1.0.0",
      "--version_service2=1.0.0",
      `--port=${port}`,
      "--quiet",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `port ${port} on 127.0.0.1 is in use by the edge of another timekit stack, Compose project "${project}", so this project's edge cannot be published there`,
    );
    expect(r.stderr).toContain(`fix: remove that stack (bun deploy.ts down --project=${project})`);
    expect(await containerIds(other, "service1")).toEqual([]);
  }, 120_000);

  test("a missing tag fails with exit 1; the stack keeps answering", async () => {
    const before = await containerIds(project, "service1");
    const r = await up(["--version_service1=7.7.7"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("service1 version 7.7.7 is not in the registry");
    expect(r.stderr).toContain("fix:");
    expect(await containerIds(project, "service1")).toEqual(before);
    expect(await answers(port)).toBe(true);
  }, 120_000);

  test("two deploys at once: the second fails clearly while the first holds the lock", async () => {
    // The first is a real upgrade (canary, new replicas, gate, retire): it holds the lock for a while.
    const first = up(["--version_service1=1.1.0"]);
    const lock = join(stateDir, project, "deploy.lock");
    const end = performance.now() + 30_000;
    while (!existsSync(lock) && performance.now() < end) await Bun.sleep(20);
    const second = await up(["--version_service1=1.1.0"]);
    // The whole result, so a failure shows the first deploy's stderr.
    expect(await first).toMatchObject({ code: 0 });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("another deploy holds the lock");
    expect(second.stderr).toContain("--lock_wait");
  }, 180_000);

  test("promote marks a published version known-good; up from known-good runs that digest", async () => {
    const p = await deploy([
      "promote",
      "--service=service1",
      "--version=1.1.0",
      `--registry=${R}`,
      "--json",
      "--quiet",
    ]);
    expect(p.code).toBe(0);
    const promoted = (JSON.parse(p.stdout) as { registry: { digest: string; knownGood: string[] } }).registry;
    expect(promoted.knownGood).toEqual([`${R}/known-good/service1:1.1.0`, `${R}/known-good/service1:latest`]);
    const r = await up(["--version_service1=known-good"]);
    expect(r.code).toBe(0);
    const s = await status();
    expect(s.services.service1).toMatchObject({ version: "1.1.0", digest: promoted.digest, health: "healthy" });
    expect(s.services.service1.image).toBe(`${R}/known-good/service1@${promoted.digest}`);
  }, 180_000);

  test("history --json lists what ran, newest first, with every setting", async () => {
    const history = JSON.parse((await deploy(["history", "--json", `--project=${project}`])).stdout) as Array<{
      action: string;
      result: string;
      versions: { service1: string; service2: string };
      params: { service1: { replicas: number; env: Record<string, string> } };
      settings: { service1: Record<string, string> };
    }>;
    expect(history.map((e) => [e.action, e.result, e.versions.service1])).toEqual([
      ["up", "ok", "1.1.0"], // known-good, recorded as the version it was built as
      ["up", "ok", "1.1.0"], // the first of the two deploys at once (the second never took the lock)
      ["up", "failed", "1.0.0"],
      ["rollback", "ok", "1.0.0"],
      ["up", "rolled-back", "1.1.0"],
      ["up", "ok", "1.1.0"],
      ["up", "ok", "1.0.0"],
    ]);
    expect(history[4]?.params.service1).toMatchObject({ replicas: 2, env: { LOG_LEVEL: "warn" } });
    expect(history[5]?.settings.service1).toMatchObject({ LOG_LEVEL: "warn", MAX_BODY_BYTES: "16384" });
  });
});
