/**
 * Unspecified means unchanged: a deploy changes only what its flags name. Settings left out keep
 * the values the running deployment was recorded with (its last good history entry), as
 * `helm upgrade --reuse-values` would; defaults apply to a first deploy, or to every field with
 * `--reset`. Then the diff: per service, what the plan changes from what runs now.
 */
import { SERVICES, type ServiceName } from "../services";
import type { LastGood } from "./history";
import { DEFAULT_LIMITS, EDGE_PENDING, type Plan, type ServicePlan, type ServiceState, sortKeys } from "./plan";

/** Which fields the command line (or deploy file) set; everything else is "unspecified". */
export interface Given {
  versions: Record<ServiceName, boolean>;
  /** service1's replica count. */
  replicas: boolean;
  /** service2's replica count (--replicas_service2). */
  replicasService2: boolean;
  /** Whether the edge runs in front of service2 (--publish_service2_directly, either way). */
  edge: boolean;
  port: boolean;
  /** Setting keys given per service (flags or an env file). */
  env: Record<ServiceName, readonly string[]>;
  limits: { memory: boolean; cpus: boolean };
}

export const NOTHING_GIVEN: Given = {
  versions: { service1: false, service2: false },
  replicas: false,
  replicasService2: false,
  edge: false,
  port: false,
  env: { service1: [], service2: [] },
  limits: { memory: false, cpus: false },
};

/**
 * The plan with every unspecified field taken from what runs (`previous`). A service that never
 * ran (or was taken down) keeps the plan's defaults. Unspecified versions reuse the very image
 * that runs (pinned: nothing is built or pulled for them). On Compose the edge in front of service2
 * is kept or left out as it runs; a kept edge keeps its image too (pinned, like a version), while
 * one the flags ask for again is assembled from the local Caddy.
 */
export function reuseRunning(plan: Plan, given: Given, previous: LastGood): Plan {
  const services = { ...plan.services };
  for (const service of SERVICES) {
    const running = previous.states[service];
    if (!running || running.replicas === 0) continue;
    const planned = plan.services[service];
    const env = { ...running.env };
    for (const key of given.env[service]) {
      const value = planned.env[key];
      if (value !== undefined) env[key] = value;
    }
    const replicasGiven = service === "service1" ? given.replicas : given.replicasService2;
    const next: ServicePlan = {
      ...planned,
      replicas: replicasGiven ? planned.replicas : running.replicas,
      env: sortKeys(env),
    };
    if (service === "service2" && plan.target === "compose" && !given.edge) {
      delete next.edge;
      if (running.edge) next.edge = { ...running.edge };
    }
    if (planned.limits) {
      next.limits = {
        memory: given.limits.memory ? planned.limits.memory : (running.limits?.memory ?? planned.limits.memory),
        cpus: given.limits.cpus ? planned.limits.cpus : (running.limits?.cpus ?? planned.limits.cpus),
      };
    }
    if (!given.versions[service]) {
      Object.assign(next, {
        version: running.version,
        image: running.image,
        digest: running.digest,
        source: { kind: "pinned" },
      });
    }
    services[service] = next;
  }
  const port = given.port || previous.port === null ? plan.port : previous.port;
  return { ...plan, services, port };
}

export type Value = string | number | null;

export interface Change {
  /**
   * `version`, `image`, `digest`, `replicas`, `memory`, `cpus`, `env.NAME`, or for service2 on
   * Compose `edge` (`on`: the edge owns the port; `off`: service2 publishes it) and `edge.image`.
   */
  field: string;
  from: Value;
  to: Value;
}

export interface ServiceDiff {
  /** Fields whose value changes (a first deploy: every field, from null). */
  changes: Change[];
  /**
   * Why the image may change although no field says so: `dev` is rebuilt from the working tree,
   * a tag is looked up again. Null when the service reuses the image it runs.
   */
  resolve: string | null;
}

export interface PlanDiff {
  project: string;
  target: string;
  /** Nothing recorded runs: every value is new. */
  firstDeploy: boolean;
  services: Record<ServiceName, ServiceDiff>;
  port: Change | null;
  /** No change and nothing to resolve: a real run has nothing to do. */
  empty: boolean;
}

function resolveNote(s: ServicePlan): string | null {
  switch (s.source.kind) {
    case "pinned":
      return null;
    case "build":
      return "rebuilt from the working tree; unchanged if the build is identical";
    case "registry":
      return `${s.image} is looked up in the registry; unchanged if it names the running digest`;
    case "archive":
      return `loaded from ${s.source.dir}; unchanged if it holds the running image`;
    case "local":
      return `${s.image} is looked up in the local engine; unchanged if it is the running image`;
  }
}

const EDGE_ASSEMBLED = "the edge image is assembled from the local Caddy; unchanged if identical";

/** service2 on Compose: whether the edge runs in front of it, and which image when that is pinned. */
function edgeChanges(was: ServiceState | null, planned: ServicePlan, compare: (f: string, a: Value, b: Value) => void) {
  compare("edge", was ? (was.edge ? "on" : "off") : null, planned.edge ? "on" : "off");
  if (was?.edge && planned.edge && planned.edge.image !== EDGE_PENDING) {
    compare("edge.image", was.edge.image, planned.edge.image);
  }
}

function serviceDiff(running: ServiceState | null, planned: ServicePlan, withEdge: boolean): ServiceDiff {
  const changes: Change[] = [];
  const compare = (field: string, from: Value, to: Value) => {
    if (from !== to) changes.push({ field, from, to });
  };
  const was = running && running.replicas > 0 ? running : null;
  compare("version", was?.version ?? null, planned.version);
  if (planned.source.kind === "pinned" || !was) compare("image", was?.image ?? null, planned.image);
  if (planned.source.kind === "pinned" && was) compare("digest", was.digest, planned.digest);
  compare("replicas", was?.replicas ?? null, planned.replicas);
  const keys = [...new Set([...Object.keys(was?.env ?? {}), ...Object.keys(planned.env)])].sort();
  for (const key of keys) compare(`env.${key}`, was?.env[key] ?? null, planned.env[key] ?? null);
  if (planned.limits) {
    const before = was ? (was.limits ?? DEFAULT_LIMITS) : null;
    compare("memory", before?.memory ?? null, planned.limits.memory);
    compare("cpus", before?.cpus ?? null, planned.limits.cpus);
  }
  if (withEdge) edgeChanges(was, planned, compare);
  const notes = was
    ? [resolveNote(planned), withEdge && planned.edge?.image === EDGE_PENDING ? EDGE_ASSEMBLED : null]
    : [];
  const resolve = notes.filter((note) => note !== null).join("; ") || null;
  return { changes, resolve };
}

/** What `plan` changes from what runs (`previous`, the last good history entry). */
export function diffPlan(previous: LastGood, plan: Plan): PlanDiff {
  const services = {} as Record<ServiceName, ServiceDiff>;
  for (const service of SERVICES) {
    const withEdge = plan.target === "compose" && service === "service2";
    services[service] = serviceDiff(previous.states[service], plan.services[service], withEdge);
  }
  const port =
    previous.port === plan.port
      ? null
      : { field: "port", from: previous.port, to: plan.port === 0 ? "any free" : plan.port };
  const empty =
    port === null && SERVICES.every((s) => services[s].changes.length === 0 && services[s].resolve === null);
  return {
    project: plan.project,
    target: plan.target,
    firstDeploy: SERVICES.every((s) => !previous.states[s] || previous.states[s]?.replicas === 0),
    services,
    port,
    empty,
  };
}

const shownValue = (value: Value) => (value === null ? "(unset)" : String(value));

/** The diff as `--dry-run` and the first lines of a real run show it. */
export function describeDiff(diff: PlanDiff): string {
  const lines = [
    diff.firstDeploy
      ? `first deploy of project ${diff.project} (${diff.target}): nothing of it runs yet`
      : `changes to project ${diff.project} (${diff.target}) from what runs now:`,
  ];
  for (const service of SERVICES) {
    const { changes, resolve } = diff.services[service];
    const parts = changes.map((c) =>
      diff.firstDeploy ? `${c.field} ${shownValue(c.to)}` : `${c.field} ${shownValue(c.from)} → ${shownValue(c.to)}`,
    );
    if (resolve) parts.push(resolve);
    lines.push(`  ${service}: ${parts.length > 0 ? parts.join("; ") : "no change"}`);
  }
  if (diff.port) lines.push(`  port: ${shownValue(diff.port.from)} → ${shownValue(diff.port.to)}`);
  if (diff.empty) lines.push("  nothing to change");
  return lines.join("\n");
}
