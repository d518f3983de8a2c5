/**
 * What `status` says about one Compose service, from its containers: every distinct image that
 * runs, with its own replica count and health, never one version stretched over all of them. The
 * top-level fields (the contract's shape) describe the version history names when it runs, else
 * the one with the most replicas; with more than one version running, `health` says "mixed" and
 * lists them.
 */
import type { ServiceState, ServiceStatus } from "../deploy/plan";
import type { ContainerInfo } from "../images/docker";
import type { ServiceName } from "../services";
import { isHealthy, isRunning, publishedUrl } from "./compose-stack";
import type { RunningVersion } from "./target";

const VERSION_LABEL = "org.opencontainers.image.version";

function healthOf(containers: ContainerInfo[]): string {
  if (containers.length === 0) return "down";
  const fine = containers.filter(isHealthy).length;
  if (fine === containers.length) return "healthy";
  const first = containers[0] as ContainerInfo;
  if (fine === 0) return first.health ?? first.status;
  return `degraded (${fine}/${containers.length} healthy)`;
}

/** Each service's own route, what `reach` points at. */
const MAIN_ROUTE: Record<ServiceName, string> = { service1: "/v1/timestamp", service2: "/v1/format" };

/**
 * How to reach a service from the host: `curl` its published address (the edge's, for service2
 * behind it; each service1 replica has its own ephemeral loopback port; all are listed). A service
 * published nowhere is reached from inside one of its containers, whose shell-less image answers
 * `--probe=/PATH` (what the gate runs).
 */
export function reachOf(service: ServiceName, running: ContainerInfo[], url: string | null): string | null {
  const urls = running.map(publishedUrl).filter((u) => u !== null);
  if (url && urls.length <= 1) return `curl ${url}${MAIN_ROUTE[service]}`;
  if (urls.length > 1) return `curl ${urls[0]}${MAIN_ROUTE[service]} (one replica each: ${urls.join(", ")})`;
  const first = running[0];
  if (!first) return null;
  const name = first.name.replace(/^\//, "");
  return `not published on the host: docker exec ${name} /usr/local/bin/service --probe=${MAIN_ROUTE[service]}`;
}

/**
 * One service's row. `front` is the address of what publishes the service's port in front of it
 * (the edge, for service2), used when none of its own containers publishes one.
 */
export function composeServiceStatus(
  containers: ContainerInfo[],
  known: ServiceState | null,
  service: ServiceName,
  front: string | null = null,
): ServiceStatus & { running: RunningVersion[]; reach: string | null } {
  const { running, ...row } = containerStatus(containers, known);
  const up = containers.filter(isRunning);
  const url = row.url ?? front;
  return { ...row, url, reach: reachOf(service, up, url), running };
}

/** The edge's row: what its containers run (no history state of its own). */
export function composeEdgeStatus(containers: ContainerInfo[]): ServiceStatus {
  const { running: _, ...row } = containerStatus(containers, null);
  return row;
}

function containerStatus(
  containers: ContainerInfo[],
  known: ServiceState | null,
): ServiceStatus & { running: RunningVersion[] } {
  const up = containers.filter(isRunning);
  const groups = new Map<string, ContainerInfo[]>();
  for (const c of up) groups.set(c.imageId, [...(groups.get(c.imageId) ?? []), c]);
  const running: RunningVersion[] = [...groups.values()].map((group) => {
    const first = group[0] as ContainerInfo;
    const matches = known !== null && group.some((c) => c.image === known.image);
    return {
      version: matches ? known.version : (first.labels[VERSION_LABEL] ?? null),
      image: matches ? known.image : first.image,
      digest: matches ? known.digest : first.imageId,
      replicas: group.length,
      health: healthOf(group),
    };
  });
  running.sort((a, b) => b.replicas - a.replicas);
  const main =
    running.find((r) => known !== null && r.image === known.image) ??
    running[0] ??
    (containers[0]
      ? {
          version: containers[0].labels[VERSION_LABEL] ?? null,
          image: containers[0].image,
          digest: containers[0].imageId,
          replicas: 0,
          health: healthOf(containers),
        }
      : null);
  const health =
    running.length > 1
      ? `mixed: ${running.map((r) => `${r.replicas} x ${r.version ?? r.image} (${r.health})`).join(", ")}`
      : healthOf(containers);
  return {
    version: main?.version ?? null,
    image: main?.image ?? null,
    digest: main?.digest ?? null,
    replicas: running.length > 1 ? (main?.replicas ?? 0) : up.length,
    health,
    url: up.map(publishedUrl).find((u) => u !== null) ?? null,
    running,
  };
}
