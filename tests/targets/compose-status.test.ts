/** What `status` says about reaching each Compose service, from its containers. */
import { expect, test } from "bun:test";
import { composeEdgeStatus, composeServiceStatus, reachOf } from "../../lib/targets/compose-status";

const container = (name: string, port: string | null) => ({
  id: name,
  name: `/${name}`,
  image: "timekit/service1:1.0.0",
  imageId: "sha256:1",
  status: "running",
  health: "healthy",
  exitCode: 0,
  env: [],
  ports: { "8080/tcp": port ? [{ HostIp: "127.0.0.1", HostPort: port }] : null },
  labels: {},
});

test.each([
  ["service2, published", "service2", [container("p_service2_1", "18080")], "curl http://127.0.0.1:18080/v1/format"],
  [
    "service1, two replicas, each on its own port",
    "service1",
    [container("p_service1_1", "32768"), container("p_service1_2", "32769")],
    "curl http://127.0.0.1:32768/v1/timestamp (one replica each: http://127.0.0.1:32768, http://127.0.0.1:32769)",
  ],
  [
    "service1, not published",
    "service1",
    [container("p_service1_1", null)],
    "not published on the host: docker exec p_service1_1 /usr/local/bin/service --probe=/v1/timestamp",
  ],
  ["nothing running", "service1", [], null],
] as const)("%s", (_name, service, containers, reach) => {
  const status = composeServiceStatus([...containers], null, service);
  expect(status.reach).toBe(reach);
  expect(reachOf(service, [...containers], status.url)).toBe(reach);
});

test("service2 behind the edge: its url and reach are the edge's published address", () => {
  const behindEdge = [container("p_service2_1", null), container("p_service2_2", null)];
  const status = composeServiceStatus(behindEdge, null, "service2", "http://127.0.0.1:18080");
  expect(status.url).toBe("http://127.0.0.1:18080");
  expect(status.reach).toBe("curl http://127.0.0.1:18080/v1/format");
});

test("service2 published directly: its own port wins over no edge", () => {
  const status = composeServiceStatus([container("p_service2_1", "18081")], null, "service2", null);
  expect(status.reach).toBe("curl http://127.0.0.1:18081/v1/format");
});

test("the edge's row: what its containers run, with its published url and no reach of its own", () => {
  const edge = { ...container("p_edge_1", "18080"), image: "timekit/edge:2.6.2-abc" };
  const row = composeEdgeStatus([edge]);
  expect(row).toEqual({
    version: null,
    image: "timekit/edge:2.6.2-abc",
    digest: "sha256:1",
    replicas: 1,
    health: "healthy",
    url: "http://127.0.0.1:18080",
  });
});
