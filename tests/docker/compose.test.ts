/**
 * The real stack from compose.yaml (service1 and service2 scaled to 2, the edge in front) as a
 * throwaway project: the chain edge → service2 → service1 with one request id in every log, every
 * contract route through the published loopback ports, the runtime hardening as the engine
 * reports it, and `docker stop` under load with requests in flight. Traffic goes only to
 * 127.0.0.1 and inside the project.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { ensureEdgeImage } from "../../lib/images/edge";
import { ROOMY_UPSTREAM } from "../integration/processes";
import { type ComposeCli, ComposeProject, composeCli } from "../support/compose";
import {
  containerLogs,
  docker,
  freePort,
  type Inspect,
  inspect,
  requireDocker,
  unavailable,
  uniqueName,
  waitFor,
  waitHealthy,
} from "../support/docker";
import { loadLoop, splitRequest } from "../support/http";
import { expectedMetadata, TEST_REPOSITORY, TEST_TAG, testImages } from "../support/images";

const SUITE = "docker compose suite";
const hasDocker = await requireDocker(SUITE);
const cli: ComposeCli | null = hasDocker ? await composeCli() : null;
const ready =
  hasDocker && (cli !== null || unavailable(SUITE, "neither `docker compose` nor `docker-compose` answers"));

const REPLICAS = 2;
/** Generous: a guard against hangs on a loaded two-core machine, never a timing assertion. */
const HANG_GUARD_MS = 120_000;
let project: ComposeProject;
let port = 0;
let service2 = "";

async function ids(service: string): Promise<string[]> {
  const all = await project.containers(service);
  const running: string[] = [];
  for (const id of all) if ((await inspect(id)).State.Running) running.push(id);
  return running;
}

/** `http://127.0.0.1:PORT` a container publishes its 8080 on. */
function publishedUrl(container: Inspect): string {
  const binding = container.NetworkSettings.Ports["8080/tcp"]?.[0];
  if (!binding) throw new Error(`${container.Name} publishes no port`);
  return `http://127.0.0.1:${binding.HostPort}`;
}

async function get(url: string, init?: RequestInit) {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, type: response.headers.get("content-type") ?? "", text, response };
}

const postJson = (url: string, body: unknown) =>
  get(url, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

describe.skipIf(!ready)("the stack on Compose", () => {
  beforeAll(async () => {
    await testImages();
    const edge = await ensureEdgeImage({ repository: TEST_REPOSITORY });
    port = freePort();
    project = await ComposeProject.create(cli as ComposeCli, uniqueName("compose"), {
      REGISTRY: TEST_REPOSITORY,
      SERVICE1_VERSION: TEST_TAG,
      SERVICE2_VERSION: TEST_TAG,
      SERVICE2_PORT: String(port),
      EDGE_IMAGE: edge.image,
      TIMEKIT_HEALTHCHECK_INTERVAL: "1s",
      ...ROOMY_UPSTREAM,
    });
    await project.compose([
      "up",
      "--detach",
      "--no-build",
      "--scale",
      `service1=${REPLICAS}`,
      "--scale",
      `service2=${REPLICAS}`,
    ]);
    const all = await project.containers();
    expect(all).toHaveLength(2 * REPLICAS + 1);
    await Promise.all(all.map((id) => waitHealthy(id)));
    service2 = `http://127.0.0.1:${port}`;
  }, 900_000);

  afterAll(async () => {
    await project?.destroy();
  }, HANG_GUARD_MS);

  test(
    "the edge's published port answers with service1's time; one request id is in the edge's and both services' logs",
    async () => {
      const requestId = `compose-chain-${Date.now()}`;
      const before = Date.now();
      const { status, text, response } = await get(`${service2}/v1/format?pattern=yyyy-MM-dd'T'HH:mm&tz=UTC`, {
        headers: { "x-request-id": requestId },
      });
      expect(status).toBe(200);
      expect(response.headers.get("x-request-id")).toBe(requestId);
      const body = JSON.parse(text);
      expect(Math.abs(body.epochMs - before)).toBeLessThan(60_000);
      expect(body.formatted).toBe(new Date(body.epochMs).toISOString().slice(0, 16));

      const logged = (lines: Record<string, unknown>[], path: string) =>
        lines.some((line) => line.requestId === requestId && line.path === path);
      const s2 = await ids("service2");
      await waitFor("one service2 replica to log the request", async () => {
        for (const id of s2) if (logged(await containerLogs(id), "/v1/format")) return true;
        return undefined;
      });
      const [edge] = await ids("edge");
      const access = (await containerLogs(edge as string)).filter((line) => line.logger === "http.log.access.log0");
      expect(
        access.some(
          (line) =>
            (line.request as { headers?: Record<string, string[]> })?.headers?.["X-Request-Id"]?.[0] === requestId,
        ),
      ).toBe(true);
      const s1 = await ids("service1");
      await waitFor("one service1 replica to log the request", async () => {
        for (const id of s1) if (logged(await containerLogs(id), "/v1/timestamp")) return true;
        return undefined;
      });
    },
    HANG_GUARD_MS,
  );

  test(
    "every service2 route answers through the container",
    async () => {
      expect((await get(`${service2}/healthz`)).status).toBe(200);
      expect((await get(`${service2}/readyz`)).status).toBe(200);
      const legacyHealth = await get(`${service2}/_/health`);
      expect([legacyHealth.status, legacyHealth.text.trim()]).toEqual([200, "OK"]);
      const expected = await expectedMetadata("service2");
      expect(JSON.parse((await get(`${service2}/version`)).text)).toEqual({
        service: "service2",
        version: expected.version,
        commit: expected.commit,
        built: expected.created,
      });
      // The edge spreads requests round robin over the replicas, and each counts only what it
      // served: every replica serves /v1/format first, so whichever answers the scrape has the series.
      for (let i = 0; i < 2 * REPLICAS; i++) expect((await get(`${service2}/v1/format`)).status).toBe(200);
      const metrics = await get(`${service2}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/^http_requests_total\{.*route="\/v1\/format"/m);
      expect(metrics.text).toContain("http_request_duration_seconds_bucket");
      const openapi = JSON.parse((await get(`${service2}/openapi/json`)).text);
      expect(openapi.openapi).toMatch(/^3\./);
      expect(Object.keys(openapi.paths)).toContain("/v1/format");

      const posted = await postJson(`${service2}/v1/format`, {
        epoch: 1761660634,
        tz: "America/New_York",
        pattern: "yyyy-MM-dd HH:mm:ss",
      });
      expect(posted.status).toBe(200);
      expect(JSON.parse(posted.text)).toMatchObject({ formatted: "2025-10-28 10:10:34", epochMs: 1761660634000 });
      const zagreb = JSON.parse((await get(`${service2}/v1/format?tz=Europe/Zagreb&locale=hr-HR&pattern=yyyy`)).text);
      expect(zagreb).toMatchObject({ tz: "Europe/Zagreb", locale: "hr-HR", pattern: "yyyy" });

      const badZone = await get(`${service2}/v1/format?tz=Not/AZone`);
      expect(badZone.status).toBe(400);
      expect(JSON.parse(badZone.text).error.message).toContain("tz");
      const unknown = await get(`${service2}/no/such/route`);
      expect(unknown.status).toBe(404);
      expect(JSON.parse(unknown.text).error.code).toBeString();
      const huge = await postJson(`${service2}/v1/format`, { epoch: 1, pattern: "x".repeat(20_000) });
      expect(huge.status).toBe(413);

      const legacy = await get(`${service2}/`, { method: "POST", body: "timestamp" });
      expect(legacy.status).toBe(200);
      expect(legacy.type).toStartWith("text/plain");
      expect(legacy.text.trim()).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const legacyBad = await get(`${service2}/`, { method: "POST", body: "foo" });
      expect([legacyBad.status, legacyBad.type.split(";")[0]]).toEqual([400, "text/plain"]);
    },
    HANG_GUARD_MS,
  );

  test(
    "every service1 replica publishes its own loopback port and answers every service1 route",
    async () => {
      const replicas = await Promise.all((await ids("service1")).map((id) => inspect(id)));
      expect(replicas).toHaveLength(REPLICAS);
      const urls = replicas.map(publishedUrl);
      expect(new Set(urls).size).toBe(REPLICAS);
      for (const url of urls) {
        const before = Date.now();
        const stamp = JSON.parse((await get(`${url}/v1/timestamp`)).text);
        expect(Math.abs(stamp.epochMs - before)).toBeLessThan(60_000);
        expect(stamp.epoch).toBe(Math.floor(stamp.epochMs / 1000));
        expect(stamp.iso).toBe(new Date(stamp.epochMs).toISOString());
        const epoch = await get(`${url}/`, { method: "POST", body: "timestamp\n" });
        expect([epoch.status, epoch.type.split(";")[0]]).toEqual([200, "text/plain"]);
        expect(epoch.text.trim()).toMatch(/^\d{10}$/);
        const iso = await get(`${url}/`);
        expect(iso.text.trim()).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        for (const path of ["/healthz", "/readyz", "/_/health", "/metrics"])
          expect((await get(`${url}${path}`)).status).toBe(200);
        expect(JSON.parse((await get(`${url}/version`)).text)).toMatchObject({
          service: "service1",
          version: (await expectedMetadata("service1")).version,
        });
        expect(Object.keys(JSON.parse((await get(`${url}/openapi/json`)).text).paths)).toContain("/v1/timestamp");
      }
    },
    HANG_GUARD_MS,
  );

  test(
    "the engine runs every container hardened: non-root, read-only, no capabilities, no-new-privileges, limits, loopback ports",
    async () => {
      const containers = await Promise.all((await project.containers()).map((id) => inspect(id)));
      for (const c of containers) {
        const host = c.HostConfig;
        const name = c.Name as string;
        expect({ name, user: c.Config.User }).toEqual({ name, user: "65532:65532" });
        expect({ name, readOnly: host.ReadonlyRootfs, privileged: host.Privileged }).toEqual({
          name,
          readOnly: true,
          privileged: false,
        });
        expect({ name, drop: host.CapDrop, add: host.CapAdd ?? [] }).toEqual({ name, drop: ["ALL"], add: [] });
        expect(host.SecurityOpt).toContain("no-new-privileges:true");
        expect(host.Tmpfs["/tmp"]).toContain("size=");
        expect(host.Memory).toBeGreaterThan(0);
        expect(host.MemorySwap).toBe(host.Memory);
        expect(host.NanoCpus).toBeGreaterThan(0);
        expect(host.PidsLimit).toBeGreaterThan(0);
        expect(host.RestartPolicy.Name).toBe("unless-stopped");
        expect(host.LogConfig).toMatchObject({
          Type: "json-file",
          Config: { "max-size": expect.any(String), "max-file": expect.any(String) },
        });
        const bindings = (Object.values(c.NetworkSettings.Ports).flat() as ({ HostIp: string } | null)[]).filter(
          (b) => b !== null,
        ) as { HostIp: string }[];
        // Behind the edge, service2 publishes nothing; the edge and service1 publish on loopback.
        const service = c.Config.Labels["com.docker.compose.service"];
        expect({ name, published: bindings.length > 0 }).toEqual({ name, published: service !== "service2" });
        for (const binding of bindings) expect({ name, ip: binding.HostIp }).toEqual({ name, ip: "127.0.0.1" });

        // What the kernel says about the running process, when the engine shares this machine's /proc.
        const status = `/proc/${c.State.Pid}/status`;
        if (existsSync(status)) {
          const fields = Object.fromEntries(
            readFileSync(status, "utf8")
              .split("\n")
              .map((line) => line.split(":\t").map((part) => part.trim())),
          );
          expect({ name, uid: fields.Uid, capEff: fields.CapEff, noNewPrivs: fields.NoNewPrivs }).toEqual({
            name,
            uid: "65532\t65532\t65532\t65532",
            capEff: "0000000000000000",
            noNewPrivs: "1",
          });
        }
      }
    },
    HANG_GUARD_MS,
  );

  test(
    "service2 finds service1 by name on a network that holds only this project's containers",
    async () => {
      const [s2] = await ids("service2");
      const env = (await inspect(s2 as string)).Config.Env as string[];
      expect(env).toContain("SERVICE1_URL=http://service1:8080");
      const network = JSON.parse(await docker(["network", "inspect", `${project.name}_backend`]))[0];
      expect(network.Driver).toBe("bridge");
      expect(Object.keys(network.Containers).sort()).toEqual((await project.containers()).sort());
    },
    HANG_GUARD_MS,
  );

  test(
    "docker stop of a service1 replica under load: requests through service2 keep succeeding, the replica exits 0",
    async () => {
      const [victim] = await ids("service1");
      const load = loadLoop(`${service2}/v1/format`, 4);
      await Bun.sleep(500);
      await docker(["stop", "--time", "20", victim as string]);
      await Bun.sleep(1500);
      const { statuses, errors } = await load.stop();
      expect(statuses.length).toBeGreaterThan(0);
      expect({ errors, non200: statuses.filter((s) => s !== 200) }).toEqual({ errors: [], non200: [] });
      expect((await inspect(victim as string)).State.ExitCode).toBe(0);
    },
    HANG_GUARD_MS,
  );

  test(
    "docker stop of a service2 replica under load: in-flight requests finish, the edge retries the rest on the other, exit code 0",
    async () => {
      const [id] = await ids("service2");
      const container = id as string;
      const body = JSON.stringify({ epoch: 1761660634, tz: "UTC", pattern: "yyyy-MM-dd" });
      const inFlight = Array.from({ length: 3 }, (_, i) =>
        splitRequest(port, "/v1/format", body, 10, { "x-request-id": `in-flight-${i}` }),
      );
      await Promise.all(inFlight.map((r) => r.started));
      const load = loadLoop(`${service2}/v1/format`, 4);
      await Bun.sleep(300);

      const stopped = docker(["stop", "--time", "20", container]);
      await waitFor("service2 to start draining", async () =>
        (await containerLogs(container)).some((line) => line.msg === "draining") ? true : undefined,
      );
      await Bun.sleep(200);
      for (const request of inFlight) request.finish();
      const answers = await Promise.all(inFlight.map((r) => r.response));
      await stopped;
      const { statuses } = await load.stop();

      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.body).formatted).toBe("2025-10-28");
      }
      expect(statuses.length).toBeGreaterThan(0);
      // Requests after its listener closed are refused there and retried by the edge on the other replica.
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      const state = (await inspect(container)).State;
      expect({ exitCode: state.ExitCode, oomKilled: state.OOMKilled }).toEqual({ exitCode: 0, oomKilled: false });
      expect((await containerLogs(container)).some((line) => line.msg === "stopped")).toBe(true);
    },
    HANG_GUARD_MS,
  );
});
