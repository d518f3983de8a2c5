/**
 * The plan: what a deploy should leave running, on which target. Built once from typed options
 * (the CLI validated every value before), printed by `--dry-run`, applied by a target, and
 * recorded in history so rollback can restore it.
 */
import type { ArchiveTrust } from "../images/archive";
import { knownGoodRef, LOCAL_REPOSITORY } from "../images/registry";
import type { Overlay } from "../k8s/input";
import { SERVICES, type ServiceName } from "../services";
import { isLine, type VersionSpec, versionLabel } from "./versions";

export const TARGETS = ["compose", "k8s", "helm"] as const;
export type TargetKind = (typeof TARGETS)[number];
export type K8sTargetKind = Exclude<TargetKind, "compose">;

export const IMAGE_LOADERS = ["auto", "kind", "minikube", "none"] as const;
export type ImageLoader = (typeof IMAGE_LOADERS)[number];

/** Where and how a Kubernetes target deploys. */
export interface K8sSettings {
  namespace: string;
  /** kubeconfig context; null: kubectl's and helm's current context. */
  context: string | null;
  overlay: Overlay;
  loadImages: ImageLoader;
}

/** What one service runs: enough to start it again exactly (rollback) and to report it (status). */
export interface ServiceState {
  /** `dev` or the published tag, without a leading `v`. */
  version: string;
  /** The image reference the target runs. */
  image: string;
  /** Content address (repo digest or image id), known once the image is resolved. */
  digest: string | null;
  replicas: number;
  /** Settings handed to the service as environment variables (what was asked; defaults left out). */
  env: Record<string, string>;
  /** Compose: the container's memory and CPU limits. */
  limits?: Limits;
  /** Compose, service2: the edge proxy that owns the published port (absent: service2 publishes it). */
  edge?: EdgeState;
}

/** The edge (Caddy) in front of service2 on Compose; its image carries its config (lib/images/edge.ts). */
export interface EdgeState {
  image: string;
  digest: string | null;
}

/** The edge image's placeholder until `resolveImages` builds it. */
export const EDGE_PENDING = "edge:pending";

/** Container limits of the Compose target (compose.yaml's mem_limit/memswap_limit and cpus). */
export interface Limits {
  /** A Docker memory size such as 256m or 1g. */
  memory: string;
  /** CPUs as a decimal, e.g. 1.0 or 0.5. */
  cpus: string;
}

export const DEFAULT_LIMITS: Limits = { memory: "256m", cpus: "1.0" };

export type ImageSource =
  | { kind: "build" }
  | { kind: "registry"; registry: string }
  | { kind: "archive"; dir: string; trust?: ArchiveTrust }
  | { kind: "local" }
  /** An image already pinned by an earlier deploy (rollback). */
  | { kind: "pinned" };

export interface ServicePlan extends ServiceState {
  name: ServiceName;
  source: ImageSource;
  /** The local repository images are built and pinned under (`timekit` unless --local_repository). */
  repository: string;
}

export interface Plan {
  target: TargetKind;
  /** --target=k8s|helm: namespace, context, overlay, image loading. */
  k8s?: K8sSettings;
  project: string;
  services: Record<ServiceName, ServicePlan>;
  /** service2's published port on 127.0.0.1 with Compose (0: let the engine pick). */
  port: number;
  gate: { timeoutMs: number };
}

/** What a deploy asks for, every value already checked. */
export interface PlanRequest {
  target: TargetKind;
  k8s?: K8sSettings;
  project: string;
  versions: Record<ServiceName, VersionSpec>;
  /** service1's replica count. */
  replicas: number;
  /** service2's replica count (more than one needs the edge). */
  replicasService2?: number;
  /** Compose: put the edge in front of service2 (default true); false publishes service2 directly. */
  edge?: boolean;
  port: number;
  registry?: string | undefined;
  archiveDir?: string | undefined;
  /** Which keys an archive must be signed by (with archiveDir). */
  archiveTrust?: ArchiveTrust | undefined;
  env: Record<ServiceName, Record<string, string>>;
  healthTimeoutMs: number;
  /** Where local images are built and pinned (default LOCAL_REPOSITORY). */
  localRepository?: string | undefined;
  /** Compose container limits (default DEFAULT_LIMITS). */
  limits?: Limits | undefined;
}

export function sortKeys(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b)));
}

function sourceFor(spec: VersionSpec, request: PlanRequest): ImageSource {
  if (spec.kind === "dev") return { kind: "build" };
  if (spec.kind === "known-good" && request.registry && !request.archiveDir) {
    return { kind: "registry", registry: request.registry };
  }
  if (request.archiveDir) {
    return {
      kind: "archive",
      dir: request.archiveDir,
      ...(request.archiveTrust ? { trust: request.archiveTrust } : {}),
    };
  }
  if (request.registry) return { kind: "registry", registry: request.registry };
  return { kind: "local" };
}

function imageFor(service: ServiceName, spec: VersionSpec, source: ImageSource, repository: string): string {
  if (spec.kind === "dev") return `${repository}/${service}:dev`;
  if (spec.kind === "known-good" && source.kind === "registry") return knownGoodRef(source.registry, service);
  const tag = versionLabel(spec);
  return source.kind === "registry" ? `${source.registry}/${service}:${tag}` : `${repository}/${service}:${tag}`;
}

export function planFor(request: PlanRequest): Plan {
  const services = {} as Record<ServiceName, ServicePlan>;
  for (const service of SERVICES) {
    const spec = request.versions[service];
    const source = sourceFor(spec, request);
    const repository = request.localRepository ?? LOCAL_REPOSITORY;
    services[service] = {
      name: service,
      version: versionLabel(spec),
      image: imageFor(service, spec, source, repository),
      digest: null,
      replicas: service === "service1" ? request.replicas : (request.replicasService2 ?? 1),
      env: sortKeys(request.env[service]),
      ...(request.target === "compose" ? { limits: request.limits ?? DEFAULT_LIMITS } : {}),
      ...(request.target === "compose" && service === "service2" && request.edge !== false
        ? { edge: { image: EDGE_PENDING, digest: null } }
        : {}),
      source,
      repository,
    };
  }
  return {
    target: request.target,
    ...(request.k8s ? { k8s: request.k8s } : {}),
    project: request.project,
    services,
    port: request.port,
    gate: { timeoutMs: request.healthTimeoutMs },
  };
}

export function stateOf(s: ServiceState): ServiceState {
  return {
    version: s.version,
    image: s.image,
    digest: s.digest,
    replicas: s.replicas,
    env: s.env,
    ...(s.limits ? { limits: s.limits } : {}),
    ...(s.edge ? { edge: { image: s.edge.image, digest: s.edge.digest } } : {}),
  };
}

/** True when the edge in front of service2 must change (added, removed, or another image). */
export function edgeChanged(current: ServiceState | null, next: ServiceState): boolean {
  const a = current?.edge ?? null;
  const b = next.edge ?? null;
  if (a === null || b === null) return a !== b;
  return a.image !== b.image || (a.digest !== null && b.digest !== null && a.digest !== b.digest);
}

/** True when running `next` needs the service's containers replaced. */
export function serviceChanged(current: ServiceState | null, next: ServiceState): boolean {
  if (!current) return true;
  return (
    current.image !== next.image ||
    (current.digest !== null && next.digest !== null && current.digest !== next.digest) ||
    current.replicas !== next.replicas ||
    JSON.stringify(sortKeys(current.env)) !== JSON.stringify(sortKeys(next.env)) ||
    JSON.stringify(current.limits ?? DEFAULT_LIMITS) !== JSON.stringify(next.limits ?? DEFAULT_LIMITS) ||
    edgeChanged(current, next)
  );
}

function sourceText(s: ServicePlan): string {
  switch (s.source.kind) {
    case "build":
      return "build from the working tree";
    case "registry":
      return `pull ${isLine(s.version) ? `the newest ${s.version}.x release ` : ""}from ${s.source.registry}`;
    case "archive":
      return `load ${isLine(s.version) ? `the newest ${s.name}-${s.version}.x` : `${s.name}-${s.version}`}.tar.gz from ${s.source.dir}`;
    case "local":
      return "use the local image";
    case "pinned":
      return "use the image as pinned";
  }
}

/** The plan as users read it in `--dry-run`. */
export function describePlan(plan: Plan): string {
  const lines = [`plan for project ${plan.project} (target ${plan.target}):`];
  for (const service of SERVICES) {
    const s = plan.services[service];
    const env = Object.entries(s.env).map(([k, v]) => `${k}=${v}`);
    lines.push(
      `  ${service}: version ${s.version}, image ${s.image} (${sourceText(s)}), replicas ${s.replicas}${env.length ? `, env ${env.join(" ")}` : ""}${s.limits ? `, memory ${s.limits.memory}, cpus ${s.limits.cpus}` : ""}`,
    );
  }
  const direct = plan.target === "compose" ? "service2 directly (no edge)" : "service2";
  const front = plan.services.service2.edge ? "the edge (Caddy) in front of every service2 replica" : direct;
  lines.push(
    `  ${front} published on 127.0.0.1:${plan.port === 0 ? "<any free port>" : plan.port}; health gate ${plan.gate.timeoutMs / 1000}s per service`,
  );
  return lines.join("\n");
}

/** What `status` reports for one service, whatever the target. */
export interface ServiceStatus {
  version: string | null;
  image: string | null;
  digest: string | null;
  replicas: number;
  health: string;
  url: string | null;
}
