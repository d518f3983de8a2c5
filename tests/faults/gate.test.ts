/**
 * The gate tests what is new, and what runs is what was asked: deploy.ts against the real engine
 * and compose.yaml, with release images of the working tree and healthy-but-wrong builds of a
 * patched copy (500 on the real route, 200 on /healthz), all under this run's `timekit-test-faults-<run>/…`.
 *
 * A (deployer's shell full of variables compose.yaml reads: none reaches the stack) → B (service1
 * upgraded, service2 moved to another port) → a healthy-but-wrong service1 and then service2,
 * each under steady load: exit 3, zero failed requests, nothing that served touched → a broken
 * service1 live (as an older gate let through, history saying so) → plain `rollback` under load:
 * exit 0. Plus: Compose itself, given a project directory whose `.env` is hostile, reads only the
 * environment file the deploy writes, and values reach it literally.
 *
 * Tests run in order and share one stack; afterAll removes it and every image this run made.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeArgv, composeEnvFile, type ComposeProject as Project } from "../../lib/targets/compose-argv";
import { overrideText } from "../../lib/targets/compose-stack";
import { answers, containerIds, ROOT, steadyClient } from "../deploy/helpers";
import { ROOMY_UPSTREAM_FLAGS } from "../integration/processes";
import { recordReliability } from "../reliability/record";
import { composeCli } from "../support/compose";
import { deriveVersion, healthyButWrong, removeRunImages } from "../support/deploy-images";
import { freePort, inspect, requireDocker, run } from "../support/docker";
import { testImages } from "../support/images";
import { containers, REPOSITORY, type Stack, stack } from "./support";

const hasDocker = await requireDocker("deploy gate and environment suite");
const ref = (service: string, version: string) => `${REPOSITORY}/${service}:${version}`;

describe.skipIf(!hasDocker)("the gate tests what is new; what runs is what was asked", () => {
  let s: Stack;
  let port = 0;
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    s = stack("gate");
    port = s.port;
    const base = await testImages();
    for (const service of ["service1", "service2"] as const) {
      for (const version of ["1.0.0", "1.1.0"]) await deriveVersion(base[service].id, ref(service, version), version);
      await healthyButWrong(service, ref(service, "6.6.6"), "6.6.6");
    }
  }, 600_000);

  afterAll(async () => {
    await s?.destroy();
    await removeRunImages();
    await recordReliability("deploy-gate", figures);
  }, 180_000);

  test("A: nothing in the deployer's shell reaches the stack; every effective setting is recorded", async () => {
    const shell = {
      TIMEKIT_BIND_ADDRESS: "127.0.0.2",
      TIMEKIT_MEM_LIMIT: "48m",
      TIMEKIT_RESTART: "no",
      TIMEKIT_CPUS: "0.25",
      SERVICE1_LOG_LEVEL: "trace",
      SERVICE2_PORT: String(freePort()),
      SERVICE1_URL: "http://elsewhere.invalid:1",
      COMPOSE_FILE: "/nonexistent/compose.yaml",
      COMPOSE_PROFILES: "monitoring",
    };
    // Roomy budgets for service2's calls to service1 (later deploys keep them): the steady clients
    // below count what a failed gate costs, not service1's latency on 2 cores shared with other lanes.
    const r = await s.up(
      ["--version_service1=1.0.0", "--version_service2=1.0.0", "--additional_param_1=2", ...ROOMY_UPSTREAM_FLAGS],
      shell,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const ids = await containers(s.project);
    expect(ids.service1).toHaveLength(2);
    for (const id of [...ids.service1, ...ids.service2]) {
      const c = await inspect(id);
      expect(c.HostConfig.Memory).toBe(256 * 1024 * 1024);
      expect(c.HostConfig.NanoCpus).toBe(1e9);
      expect(c.HostConfig.RestartPolicy.Name).toBe("unless-stopped");
      for (const binding of Object.values(c.HostConfig.PortBindings ?? {}).flat() as { HostIp: string }[]) {
        expect(binding.HostIp).toBe("127.0.0.1");
      }
      expect(c.Config.Env).toContain("LOG_LEVEL=info");
    }
    const service2 = await inspect(ids.service2[0] as string);
    const [edge] = await containerIds(s.project, "edge");
    expect((await inspect(edge as string)).HostConfig.PortBindings["8080/tcp"][0].HostPort).toBe(String(port));
    expect(service2.Config.Env).toContain("SERVICE1_URL=http://service1:8080");
    const [row] = await s.history();
    expect(row?.settings?.service1).toMatchObject({ LOG_LEVEL: "info", DRAIN_TIMEOUT_MS: "8000" });
    expect(row?.settings?.service2).toMatchObject({ SERVICE1_RETRIES: "2" });
    expect(await answers(port)).toBe(true);
  }, 300_000);

  test("B: an upgrade of service1 and a changed --port, both applied and recorded", async () => {
    const before = await containers(s.project);
    const edgeBefore = await containerIds(s.project, "edge");
    port = freePort();
    s.port = port;
    const r = await s.up(["--version_service1=1.1.0", "--version_service2=1.0.0", "--additional_param_1=2"]);
    expect(r.code).toBe(0);
    const after = await containers(s.project);
    // The port is the edge's: the edge moved, service2 itself was not restarted.
    expect(await containerIds(s.project, "edge")).not.toEqual(edgeBefore);
    expect(after.service2).toEqual(before.service2);
    expect(after.service1.filter((id) => before.service1.includes(id))).toEqual([]);
    const st = await s.status();
    expect(st.services.service1).toMatchObject({ version: "1.1.0", replicas: 2, health: "healthy" });
    expect(st.services.service2.url).toBe(`http://127.0.0.1:${port}`);
    expect((await s.history())[0]).toMatchObject({ result: "ok", port, changed: ["service1", "service2"] });
    expect(await answers(port)).toBe(true);
  }, 300_000);

  for (const service of ["service1", "service2"] as const) {
    test(`a healthy-but-wrong ${service} under steady load: exit 3, zero failed requests, nothing serving touched`, async () => {
      const before = await containers(s.project);
      const client = steadyClient(port);
      const r = await s.up(
        service === "service1"
          ? ["--version_service1=6.6.6", "--version_service2=1.0.0", "--additional_param_1=2"]
          : ["--version_service1=1.1.0", "--version_service2=6.6.6", "--additional_param_1=2"],
      );
      await Bun.sleep(1000);
      const stats = await client.stop();
      figures[`${service}: failed requests`] = stats.failed;
      figures[`${service}: requests`] = stats.ok + stats.failed;
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`${service} 6.6.6 failed its gate (canary:`);
      expect(r.stderr).toContain("answered HTTP 500");
      expect(stats.failures).toEqual([]);
      expect(stats.ok).toBeGreaterThan(20);
      expect(await containers(s.project)).toEqual(before);
      const st = await s.status();
      expect(st.services.service1).toMatchObject({ version: "1.1.0", replicas: 2, health: "healthy" });
      expect(st.services.service2).toMatchObject({ version: "1.0.0", replicas: 1, health: "healthy" });
      expect((await s.history())[0]).toMatchObject({ result: "rolled-back", changed: [] });
    }, 300_000);
  }

  test("with a broken service1 live (an older gate let it through), plain rollback under load: exit 0", async () => {
    // What an older CLI left: the broken image running as service1, and history saying it passed.
    const stateDir = join(s.stateRoot, s.project);
    const history = readFileSync(join(stateDir, "history.jsonl"), "utf8").trim().split("\n");
    const good = JSON.parse(history.find((line) => line.includes('"result":"ok"') && line.includes('"1.1.0"')) ?? "{}");
    const brokenId = (
      await run(["docker", "image", "inspect", "--format", "{{.Id}}", ref("service1", "6.6.6")])
    ).stdout.trim();
    const brokenRow = {
      ...good,
      time: new Date().toISOString(),
      versions: { ...good.versions, service1: "6.6.6" },
      images: { ...good.images, service1: ref("service1", "6.6.6") },
      digests: { ...good.digests, service1: brokenId },
      changed: ["service1"],
    };
    writeFileSync(join(stateDir, "history.jsonl"), `${[...history, JSON.stringify(brokenRow)].join("\n")}\n`);
    const override = readFileSync(join(stateDir, "compose.override.yaml"), "utf8").replace(
      new RegExp(`image: ${REPOSITORY}/service1:\\S+`),
      `image: ${ref("service1", "6.6.6")}`,
    );
    const brokenOverride = join(stateDir, "broken.override.yaml");
    writeFileSync(brokenOverride, override);
    const compose = await composeCli();
    if (!compose) throw new Error("no Compose");
    const project: Project = {
      command: compose.argv,
      project: s.project,
      directory: ROOT,
      files: [join(ROOT, "compose.yaml"), brokenOverride],
      envFile: join(stateDir, "compose.env"),
    };
    const live = await run(composeArgv.up(project, "service1", 2), { timeoutMs: 180_000 });
    expect(live.exitCode).toBe(0);
    const broken = await fetch(`http://127.0.0.1:${port}/v1/format`);
    await broken.arrayBuffer();
    expect(broken.status).toBeGreaterThanOrEqual(500);

    const client = steadyClient(port);
    const r = await s.deploy(["rollback", `--project=${s.project}`, "--quiet"]);
    await Bun.sleep(3000);
    const stats = await client.stop();
    figures["rollback from a broken version live: failed requests"] = stats.failed;
    figures["rollback from a broken version live: requests"] = stats.ok + stats.failed;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const st = await s.status();
    expect(st.services.service1).toMatchObject({ version: "1.1.0", replicas: 2, health: "healthy" });
    expect(st.services.service1.running).toHaveLength(1);
    expect((await s.history())[0]).toMatchObject({ action: "rollback", result: "ok", changed: ["service1"] });
    const after = await fetch(`http://127.0.0.1:${port}/v1/format`);
    expect(after.status).toBe(200);
  }, 300_000);

  test("Compose reads only the deploy's environment file, never a .env beside the project; values stay literal", async () => {
    const compose = await composeCli();
    if (!compose) throw new Error("no Compose");
    const dir = mkdtempSync(join(tmpdir(), "timekit-test-faults-env-"));
    try {
      writeFileSync(join(dir, ".env"), "SERVICE2_PORT=1\nTIMEKIT_BIND_ADDRESS=0.0.0.0\nTIMEKIT_MEM_LIMIT=48m\n");
      // Compose v1.29's `config` wants every build context to exist under the project directory.
      mkdirSync(join(dir, "edge"));
      const ours = join(dir, "ours.env");
      writeFileSync(ours, composeEnvFile(4242));
      const override = join(dir, "override.yaml");
      const state = {
        service1: { version: "x", image: "img$1:one", digest: null, replicas: 1, env: { LOG_LEVEL: "warn" } },
        service2: { version: "x", image: "img2", digest: null, replicas: 1, env: {} },
      };
      // A value with `$` cannot come from a setting (none allows it); the override escapes it anyway.
      writeFileSync(
        override,
        overrideText("p", state).replace("LOG_LEVEL: warn", () => 'LOG_LEVEL: "a$$b $${GITHUB_TOKEN:-none}"'),
      );
      const project: Project = {
        command: compose.argv,
        project: "timekit-test-faults-config",
        directory: dir,
        files: [join(ROOT, "compose.yaml"), override],
        envFile: ours,
      };
      const out = await run(composeArgv.config(project), { env: { GITHUB_TOKEN: "secret-token" }, timeoutMs: 60_000 });
      expect(out.exitCode).toBe(0);
      // v1.29 prints `127.0.0.1:4242:8080/tcp`, v2 a long form with host_ip and published.
      expect(out.stdout).toMatch(/127\.0\.0\.1:4242:8080|published: "?4242"?/);
      expect(out.stdout).not.toMatch(/0\.0\.0\.0:\d*:8080|published: "?1"?\n/);
      expect(out.stdout).not.toContain("secret-token");
      // Compose prints what it will hand over re-escaped: `$$` is one literal `$`, nothing expanded.
      expect(out.stdout).toContain("image: img$$1:one");
      expect(out.stdout).toContain("a$$b $${GITHUB_TOKEN:-none}");
      expect(out.stdout).toMatch(/mem_limit: "?256m"?/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
