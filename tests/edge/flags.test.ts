/**
 * The edge's flags and plan, in-process (no engine): --replicas_service2 and
 * --publish_service2_directly are checked before anything runs, the dry run says what publishes
 * the port, and the Compose override and history carry the edge.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { entryFromState, stateFromEntry } from "../../lib/deploy/history";
import { EDGE_PENDING, edgeChanged, type ServiceState, serviceChanged } from "../../lib/deploy/plan";
import { overrideText } from "../../lib/targets/compose-stack";
import { deploy } from "../cli/support";

// A dry run reads what runs from the state dir (to show the diff): an empty one, so nothing runs.
const stateDir = mkdtempSync(join(tmpdir(), "timekit-edge-flags-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
const env = { TIMEKIT_STATE_DIR: stateDir };

describe("--replicas_service2 and --publish_service2_directly", () => {
  test.each([
    ["0", /--replicas_service2="0" is not allowed; it is the service2 replica count, a whole number from 1 to 20/],
    ["21", /--replicas_service2="21" is not allowed/],
    ["two", /--replicas_service2="two" is not allowed/],
  ])("--replicas_service2=%s is exit 2 naming what is allowed", async (value, message) => {
    const r = await deploy([`--replicas_service2=${value}`, "--dry-run"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test("more than one service2 without the edge is exit 2, saying why", async () => {
    const r = await deploy(["--replicas_service2=2", "--publish_service2_directly", "--dry-run"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--replicas_service2=2 needs the edge");
  });

  test("--publish_service2_directly on Kubernetes is exit 2: the Service is the entry point there", async () => {
    const r = await deploy(["--target=k8s", "--publish_service2_directly", "--dry-run"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--publish_service2_directly applies to --target=compose only");
  });

  test("the dry run names what publishes the port, and service2's replicas", async () => {
    const edge = await deploy(["--replicas_service2=3", "--dry-run", "--json"], env);
    expect(edge.code).toBe(0);
    const plan = JSON.parse(edge.stdout).plan;
    expect(plan.services.service2).toMatchObject({ replicas: 3, edge: { image: EDGE_PENDING, digest: null } });
    const text = await deploy(["--replicas_service2=3", "--dry-run"], env);
    expect(text.stdout).toContain("replicas 3");
    expect(text.stdout).toContain("the edge (Caddy) in front of every service2 replica published on 127.0.0.1:8080");
    const direct = await deploy(["--publish_service2_directly", "--dry-run", "--json"], env);
    expect(JSON.parse(direct.stdout).plan.services.service2.edge).toBeUndefined();
    const directText = await deploy(["--publish_service2_directly", "--dry-run"], env);
    expect(directText.stdout).toContain("service2 directly (no edge) published on 127.0.0.1:8080");
  });
});

describe("the edge in state, history and the Compose override", () => {
  const service2: ServiceState = {
    version: "1.0.0",
    image: "timekit/service2:1.0.0-abc",
    digest: "sha256:abc",
    replicas: 2,
    env: {},
    edge: { image: "timekit/edge:2.6.2-0123456789ab", digest: "sha256:e1" },
  };
  const service1: ServiceState = { ...service2, image: "timekit/service1:1.0.0-def", edge: undefined } as ServiceState;
  delete service1.edge;

  test("a changed edge is a changed service2; an unchanged one is not", () => {
    expect(serviceChanged(service2, { ...service2 })).toBe(false);
    const other = { ...service2, edge: { image: "timekit/edge:2.6.2-fedcba987654", digest: "sha256:e2" } };
    expect(edgeChanged(service2, other)).toBe(true);
    expect(serviceChanged(service2, other)).toBe(true);
    const { edge: _, ...direct } = service2;
    expect(edgeChanged(service2, direct)).toBe(true);
    expect(edgeChanged(null, direct)).toBe(false);
  });

  test("history keeps the edge with service2, and gives it back", () => {
    const entry = entryFromState("up", "ok", { service1, service2 }, ["service2"], 8080, performance.now());
    expect(entry.params.service2.edge).toEqual(service2.edge as NonNullable<ServiceState["edge"]>);
    expect(entry.params.service1.edge).toBeUndefined();
    expect(stateFromEntry(entry, "service2").edge).toEqual(service2.edge as NonNullable<ServiceState["edge"]>);
  });

  test("the override names the edge's image, literally", () => {
    const text = overrideText("tk", {
      service1,
      service2: { ...service2, edge: { image: "r$1/edge:x", digest: null } },
    });
    expect(text).toContain("edge:\n    image: r$$1/edge:x");
    const { edge: _, ...direct } = service2;
    expect(overrideText("tk", { service1, service2: direct })).not.toContain("edge:");
  });
});
