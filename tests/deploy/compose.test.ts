/**
 * deploy.ts against the real engine, the project's real compose.yaml and real release images
 * (built once from the working tree by `deploy.ts build`, other versions derived from it),
 * published by `deploy.ts publish` to a real registry (`docker-registry`) on 127.0.0.1:
 *
 * A → B under steady load (zero failed requests; service2 not restarted) → a version whose health
 * check fails (automatic rollback to B with B's params, exit 3) → rollback → a missing tag and a
 * corrupted archive (exit 1, the stack keeps answering) → two deploys at once → promote and
 * `up` from known-good → status/history JSON → republishing a version with other content fails →
 * the air-gapped path: images removed, deployed from the published archives.
 *
 * Tests run in order and share one stack; each cleans up in afterAll.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, requireDocker, run, uniqueName } from "../support/docker";
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
const archives = join(work, "archives");
const deploy = cli({ TIMEKIT_STATE_DIR: stateDir });
const port = freePort();
let registry: Registry | undefined;
let R = "";

const up = (args: string[]) =>
  deploy([
    `--project=${project}`,
    `--registry=${R}`,
    "--version_service2=1.0.0",
    "--additional_param_1=2",
    `--port=${port}`,
    "--quiet",
    ...args,
  ]);
const status = async () => JSON.parse((await deploy(["status", "--json", `--project=${project}`])).stdout);
const env = async (id: string) =>
  (await run(["docker", "inspect", "--format", "{{json .Config.Env}}", id])).stdout.trim();

describe.skipIf(!hasDocker)("deploy with Compose from a real registry", () => {
  beforeAll(async () => {
    registry = await startRegistry();
    R = registry.repo;
    for (const service of ["service1", "service2"]) {
      const b = await deploy(["build", `--service=${service}`, "--version=1.0.0", "--quiet"]);
      if (b.code !== 0) throw new Error(`build ${service} failed: ${b.stderr}`);
    }
    await deriveImage("timekit/service1:1.0.0", "timekit/service1:1.1.0", "1.1.0");
    await deriveImage("timekit/service1:1.0.0", "timekit/service1:9.9.9", "9.9.9", true);
    for (const [service, version] of [
      ["service1", "1.0.0"],
      ["service1", "1.1.0"],
      ["service1", "9.9.9"],
      ["service2", "1.0.0"],
    ] as const) {
      const p = await deploy([
        "publish",
        `--service=${service}`,
        `--version=${version}`,
        `--registry=${R}`,
        ...(version !== "9.9.9" ? [`--archive_dir=${archives}`] : []),
        "--quiet",
      ]);
      if (p.code !== 0) throw new Error(`publish ${service} ${version} failed: ${p.stderr}`);
    }
  }, 300_000);

  afterAll(async () => {
    await deploy(["down", `--project=${project}`, "--force_unlock", "--quiet"]);
    await removeProject(project);
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  let service2Container: string[] = [];

  test("deploy A: both services from the registry, pinned by digest", async () => {
    const r = await up(["--version_service1=1.0.0"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`deployed service1 1.0.0 x2, service2 1.0.0 at http://127.0.0.1:${port}`);
    expect(await containerIds(project, "service1")).toHaveLength(2);
    expect(await answers(port)).toBe(true);
    const s = await status();
    expect(s.services.service1.image).toStartWith(`${R}/service1@sha256:`);
    service2Container = await containerIds(project, "service2");
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

  test("a version whose health check fails is rolled back to B with B's params: exit 3", async () => {
    const r = await up(["--version_service1=9.9.9", "--health_timeout=45s"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("service1 9.9.9 failed its gate");
    expect(r.stderr).toContain("restored: service1 is back at 1.1.0 x2");
    expect(r.stderr).toContain("health log");
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
    for (const id of await containerIds(project, "service1")) expect(await env(id)).not.toContain("LOG_LEVEL=warn");
  }, 180_000);

  test("a missing tag and a corrupted archive fail with exit 1; the stack keeps answering", async () => {
    const before = await containerIds(project, "service1");
    let r = await up(["--version_service1=7.7.7"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("service1 version 7.7.7 is not in the registry");
    expect(r.stderr).toContain("fix:");

    const bad = join(work, "corrupt");
    mkdirSync(bad);
    for (const f of ["service1-1.1.0.tar.gz", "service1-1.1.0.tar.gz.sha256"])
      copyFileSync(join(archives, f), join(bad, f));
    const file = join(bad, "service1-1.1.0.tar.gz");
    const bytes = await Bun.file(file).bytes();
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
    r = await deploy([
      `--project=${project}`,
      `--from_archive=${bad}`,
      "--version_service1=1.1.0",
      "--version_service2=1.0.0",
      "--additional_param_1=2",
      `--port=${port}`,
      "--quiet",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("checksum mismatch");
    expect(await containerIds(project, "service1")).toEqual(before);
    expect(await answers(port)).toBe(true);
  }, 120_000);

  test("two deploys at once: the second fails clearly while the first holds the lock", async () => {
    // The first is a real upgrade (new replicas, gate, retire): it holds the lock for a while.
    const first = up(["--version_service1=1.1.0"]);
    const lock = join(stateDir, project, "deploy.lock");
    const end = performance.now() + 30_000;
    while (!existsSync(lock) && performance.now() < end) await Bun.sleep(20);
    const second = await up(["--version_service1=1.1.0"]);
    const firstResult = await first;
    expect(firstResult.code).toBe(0);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("another deploy holds the lock");
    expect(second.stderr).toContain("--lock_wait");
  }, 120_000);

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

  test("history --json lists what ran, newest first", async () => {
    const history = JSON.parse((await deploy(["history", "--json", `--project=${project}`])).stdout) as Array<{
      action: string;
      result: string;
      versions: { service1: string; service2: string };
      params: { service1: { replicas: number; env: Record<string, string> } };
    }>;
    expect(history.map((e) => [e.action, e.result, e.versions.service1])).toEqual([
      ["up", "ok", "1.1.0"],
      ["up", "ok", "1.1.0"],
      ["up", "failed", "1.0.0"],
      ["up", "failed", "1.0.0"],
      ["rollback", "ok", "1.0.0"],
      ["up", "rolled-back", "1.1.0"],
      ["up", "ok", "1.1.0"],
      ["up", "ok", "1.0.0"],
    ]);
    expect(history[5]?.params.service1).toEqual({ replicas: 2, env: { LOG_LEVEL: "warn" } });
  });

  test("republishing a version with different content fails; the same content is a no-op", async () => {
    const same = await deploy([
      "publish",
      "--service=service2",
      "--version=1.0.0",
      `--registry=${R}`,
      `--archive_dir=${archives}`,
    ]);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain("already published");
    const b = await deploy(["build", "--service=service2", "--version=1.0.0", "--quiet"], {
      BUILD_COMMIT: "feedfacecafe",
    });
    expect(b.code).toBe(0);
    let r = await deploy(["publish", "--service=service2", "--version=1.0.0", `--registry=${R}`, "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is already published with different content");
    r = await deploy(["publish", "--service=service2", "--version=1.0.0", `--archive_dir=${archives}`, "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is already published with different content");
  }, 120_000);

  test("air-gapped: with the images removed, up --from_archive loads and verifies the archives", async () => {
    expect((await deploy(["down", `--project=${project}`, "--quiet"])).code).toBe(0);
    for (const ref of ["timekit/service1:1.1.0", "timekit/service2:1.0.0"]) {
      const id = (await run(["docker", "image", "inspect", "--format", "{{.Id}}", ref])).stdout.trim();
      if (id) await run(["docker", "image", "rm", "-f", id]);
      expect((await run(["docker", "image", "inspect", ref])).exitCode).not.toBe(0);
    }
    const r = await deploy([
      `--project=${project}`,
      `--from_archive=${archives}`,
      "--version_service1=1.1.0",
      "--version_service2=1.0.0",
      `--port=${port}`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain(R.split("/")[0] as string);
    const s = await status();
    expect(s.services.service1).toMatchObject({ version: "1.1.0", replicas: 1, health: "healthy" });
    expect(await answers(port)).toBe(true);
  }, 180_000);
});
