/**
 * The real DNS path: `bun deploy.ts --additional_param_1=3` puts three service1 replicas behind the
 * Compose name `service1`; calls through service2 must reach all three, as their own access logs
 * show. The CLI runs as a subprocess with its documented flags, in a throwaway project.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { containerLogs, docker, freePort, requireDocker, uniqueName, waitFor } from "../support/docker";

const SUITE = "service1 balancing on Compose";
const ready = await requireDocker(SUITE);
const root = new URL("../..", import.meta.url).pathname;
const REPLICAS = 3;
const CALLS = 900;
/** Generous: a guard against hangs on a loaded two-core machine (images are built), never a timing assertion. */
const HANG_GUARD_MS = 900_000;

const project = uniqueName("services-balancing");
/** The dev build is tagged here (and removed afterwards), never under the user's `timekit/…`. */
const NAMESPACE = `timekit-test-balancing-${process.pid}`;
const stateDir = mkdtempSync(join(tmpdir(), "timekit-balancing-state-"));
const port = freePort();
const service2 = `http://127.0.0.1:${port}`;

async function deploy(...args: string[]): Promise<{ exitCode: number; output: string }> {
  const child = Bun.spawn(
    [process.execPath, "deploy.ts", ...args, `--project=${project}`, `--state_dir=${stateDir}`, "--quiet"],
    { cwd: root, stdout: "pipe", stderr: "pipe" },
  );
  const [exitCode, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  return { exitCode, output: `${stdout}${stderr}` };
}

async function service1Containers(): Promise<string[]> {
  const out = await docker([
    "ps",
    "-q",
    "--filter",
    `label=com.docker.compose.project=${project}`,
    "--filter",
    "label=com.docker.compose.service=service1",
  ]);
  return out.split("\n").filter(Boolean);
}

/** GET /v1/timestamp lines in one replica's access log (JSON lines on stdout). */
async function timestampRequests(id: string): Promise<number> {
  return (await containerLogs(id)).filter((line) => line.path === "/v1/timestamp" && line.msg === "request").length;
}

describe.skipIf(!ready)(SUITE, () => {
  beforeAll(async () => {
    const up = await deploy(`--additional_param_1=${REPLICAS}`, `--port=${port}`, `--local_repository=${NAMESPACE}`);
    if (up.exitCode !== 0) throw new Error(`deploy failed (${up.exitCode}):\n${up.output}`);
  }, HANG_GUARD_MS);

  afterAll(async () => {
    const down = await deploy("down");
    rmSync(stateDir, { recursive: true, force: true });
    const tags = (await docker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", `${NAMESPACE}/*`]))
      .split("\n")
      .filter(Boolean);
    if (tags.length > 0) await docker(["image", "rm", ...tags]);
    if (down.exitCode !== 0) throw new Error(`deploy down failed (${down.exitCode}):\n${down.output}`);
  }, HANG_GUARD_MS);

  test(
    `${CALLS} calls through service2 reach all ${REPLICAS} replicas, as their access logs show`,
    async () => {
      const replicas = await service1Containers();
      expect(replicas).toHaveLength(REPLICAS);
      const before = await Promise.all(replicas.map(timestampRequests));
      for (let i = 0; i < CALLS; i++) {
        const response = await fetch(`${service2}/v1/format`, { signal: AbortSignal.timeout(10_000) });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
      }
      // Access logs are flushed every 200 ms: wait until every call shows up in some replica's log.
      const counts = await waitFor("every call in a replica's access log", async () => {
        const now = await Promise.all(replicas.map(timestampRequests));
        const delta = now.map((count, i) => count - (before[i] ?? 0));
        return delta.reduce((sum, count) => sum + count, 0) >= CALLS ? delta : undefined;
      });
      console.log(`access logs of ${REPLICAS} replicas: ${counts.join(" / ")} of ${CALLS} calls`);
      for (const count of counts) {
        expect(count / CALLS).toBeGreaterThanOrEqual(0.2);
        expect(count / CALLS).toBeLessThanOrEqual(0.47);
      }

      const metrics = await (await fetch(`${service2}/metrics`)).text();
      const addresses = metrics.split("\n").filter((line) => line.startsWith("upstream_endpoint_requests_total{"));
      expect(addresses.filter((line) => line.includes('outcome="ok"'))).toHaveLength(REPLICAS);
      expect(metrics).toMatch(/^upstream_endpoints\{state="ready",service="service2"\} 3$/m);
    },
    HANG_GUARD_MS,
  );
});
