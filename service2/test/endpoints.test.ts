import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Metrics } from "@timekit/runtime";
import { captureLogger } from "@timekit/runtime/testing";
import { type Endpoint, EndpointPool, type EndpointState, MAX_ENDPOINTS, type Resolve } from "../src/endpoints";
import { Service1Client } from "../src/service1-client";

const pools: EndpointPool[] = [];
const servers: ReturnType<typeof Bun.serve>[] = [];
afterAll(() => {
  for (const pool of pools) pool.close();
  for (const server of servers) server.stop(true);
});

function makePool(resolve: Resolve, metrics?: Metrics) {
  const log = captureLogger("service2");
  const pool = new EndpointPool({
    url: new URL("http://service1.test:8080"),
    resolve,
    intervalMs: 60_000,
    logger: log.logger,
    metrics,
  });
  pools.push(pool);
  return { pool, log };
}

const at = (...ports: number[]): Endpoint[] => ports.map((port) => ({ address: "10.0.0.1", port }));

describe("EndpointPool", () => {
  test("calls go round in turn while none is busy, then to the least busy", async () => {
    const { pool } = makePool(async () => at(1, 2, 3));
    await pool.ready;
    const picks = Array.from({ length: 6 }, () => pool.pick(new Set())?.endpoint.port);
    expect(picks).toEqual([1, 2, 3, 1, 2, 3]);
    const [first, second] = pool.current as EndpointState[];
    if (!first || !second) throw new Error("expected endpoints");
    first.outstanding = 5;
    second.outstanding = 1;
    const counts = new Map<number, number>();
    for (let i = 0; i < 30; i++) {
      const port = pool.pick(new Set())?.endpoint.port ?? 0;
      counts.set(port, (counts.get(port) ?? 0) + 1);
    }
    expect(counts).toEqual(new Map([[3, 30]]));
  });

  test("a retry goes to an address not tried yet; one that failed is paused but never leaves the pool empty", async () => {
    const { pool } = makePool(async () => at(1, 2));
    await pool.ready;
    const [one, two] = pool.current as EndpointState[];
    if (!one || !two) throw new Error("expected endpoints");
    expect(pool.pick(new Set([one]))).toBe(two);
    pool.record(one, "failed", true);
    for (let i = 0; i < 4; i++) expect(pool.pick(new Set())).toBe(two);
    pool.record(two, "failed", true);
    // Both paused: calls still go somewhere rather than nowhere.
    expect([one, two]).toContain(pool.pick(new Set()) as EndpointState);
  });

  test("a failed or empty lookup keeps the addresses known; duplicates are merged; at most MAX_ENDPOINTS", async () => {
    let answer: () => Endpoint[] = () => at(1, 1, 2);
    const { pool, log } = makePool(async () => answer());
    await pool.ready;
    expect(pool.current.map((endpoint) => endpoint.key)).toEqual(["10.0.0.1:1", "10.0.0.1:2"]);
    answer = () => [];
    await pool.refresh();
    answer = () => {
      throw new Error("SERVFAIL");
    };
    await pool.refresh();
    expect(pool.current).toHaveLength(2);
    expect(log.lines().map((line) => line.msg)).toContain("service1 lookup failed; keeping the addresses known");
    answer = () => at(...Array.from({ length: 100 }, (_, i) => 1000 + i));
    await pool.refresh();
    expect(pool.current).toHaveLength(MAX_ENDPOINTS);
  });

  test("an address that vanished is dropped with its metric series; the others keep their state", async () => {
    let answer = at(1, 2, 3);
    const metrics = new Metrics("service2", { processMetrics: false });
    const { pool } = makePool(async () => answer, metrics);
    await pool.ready;
    const kept = pool.current[1];
    for (const endpoint of pool.current) pool.record(endpoint, "ok");
    answer = at(2, 3, 4);
    await pool.refresh();
    expect(pool.current.map((endpoint) => endpoint.endpoint.port)).toEqual([2, 3, 4]);
    expect(pool.current[0]).toBe(kept as EndpointState);
    const { text } = await metrics.scrape();
    expect(text).not.toContain('endpoint="10.0.0.1:1"');
    expect(text).toContain('upstream_endpoint_requests_total{endpoint="10.0.0.1:2",outcome="ok",service="service2"} 1');
    expect(text).toContain('upstream_endpoints{state="ready",service="service2"} 3');
    expect(text).toContain('upstream_resolutions_total{outcome="ok",service="service2"} 2');
  });

  test("IPv6 addresses are bracketed in URLs and keys", async () => {
    const { pool } = makePool(async (_hostname, port) => [{ address: "::1", port }]);
    await pool.ready;
    expect(pool.current[0]?.key).toBe("[::1]:8080");
    expect(pool.current[0]?.origin).toBe("http://[::1]:8080");
  });
});

/** A stand-in service1 that records which client connection (port) each request came over. */
function standIn(tls?: { key: string; cert: string; serverName?: string }[]) {
  const clientPorts: number[] = [];
  const hosts: string[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    ...(tls ? { tls } : {}),
    fetch(request, self) {
      clientPorts.push(self.requestIP(request)?.port ?? 0);
      hosts.push(request.headers.get("host") ?? "");
      const now = Date.now();
      return Response.json({ epoch: Math.floor(now / 1000), epochMs: now, iso: new Date(now).toISOString() });
    },
  });
  servers.push(server);
  return { port: server.port as number, clientPorts, hosts };
}

function client(url: string, ports: number[], tls?: BunFetchRequestInitTLS) {
  const service1 = new Service1Client({
    baseUrl: url,
    timeoutMs: 2000,
    attemptTimeoutMs: 1000,
    retries: 1,
    backoffMs: 1,
    resolveIntervalMs: 60_000,
    resolve: async () => ports.map((port) => ({ address: "127.0.0.1", port })),
    tls,
    logger: captureLogger("service2").logger,
  });
  pools.push(service1.endpoints);
  return service1;
}

describe("Service1Client over several addresses", () => {
  test("each address keeps its own keep-alive connection and sees the configured Host", async () => {
    const stands = [standIn(), standIn(), standIn()];
    const service1 = client(
      "http://service1.test:8080",
      stands.map((stand) => stand.port),
    );
    for (let i = 0; i < 300; i++) await service1.timestamp(`id-${i}`);
    for (const stand of stands) {
      expect(stand.clientPorts).toHaveLength(100);
      expect(new Set(stand.clientPorts).size).toBe(1);
      expect(new Set(stand.hosts)).toEqual(new Set(["service1.test:8080"]));
    }
  });

  describe("https by address", () => {
    const directory = mkdtempSync(join(tmpdir(), "timekit-tls-"));
    afterAll(() => rmSync(directory, { recursive: true, force: true }));

    /** A self-signed certificate for `name` (it is also its own CA). */
    function certificate(name: string): { key: string; cert: string } {
      const key = join(directory, `${name}.key`);
      const cert = join(directory, `${name}.crt`);
      const result = Bun.spawnSync(
        [
          "openssl",
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-days",
          "2",
          "-subj",
          `/CN=${name}`,
          "-addext",
          `subjectAltName=DNS:${name}`,
          "-keyout",
          key,
          "-out",
          cert,
        ],
        { stdout: "pipe", stderr: "pipe" },
      );
      if (result.exitCode !== 0) throw new Error(`openssl failed: ${result.stderr.toString()}`);
      return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
    }

    test("sends the configured host as TLS server name (SNI) and checks the certificate against it", async () => {
      const other = certificate("other.test");
      const service1Cert = certificate("service1.test");
      // The default certificate is the wrong one: only a client that sends SNI service1.test gets the right one.
      const stand = standIn([other, { ...service1Cert, serverName: "service1.test" }]);
      const ca = [other.cert, service1Cert.cert];
      const good = client(`https://service1.test:${stand.port}`, [stand.port], { ca });
      expect((await good.timestamp("tls-1")).epochMs).toBeGreaterThan(0);
      expect(stand.hosts.at(-1)).toBe(`service1.test:${stand.port}`);

      // A name the server has no certificate for fails the check (it gets other.test's): no call succeeds.
      const wrongName = client(`https://elsewhere.test:${stand.port}`, [stand.port], { ca });
      const failure = await wrongName.timestamp("tls-2").then(
        () => undefined,
        (error: Error) => error,
      );
      expect(failure?.message).toStartWith("service1 is unavailable");
    });
  });
});
