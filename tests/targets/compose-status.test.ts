/** What `status` says about reaching each Compose service, from its containers. */
import { expect, test } from "bun:test";
import { composeServiceStatus, reachOf } from "../../lib/targets/compose-status";

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
