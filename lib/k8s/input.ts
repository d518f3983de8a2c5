/**
 * What a Kubernetes render takes: one input for both the raw manifests and the charts, checked in
 * full (with the services' own settings rules) before any tool runs.
 */
import { UsageError } from "../errors";
import { MAX_REPLICAS } from "../limits";
import { SERVICES, type ServiceName } from "../services";
import { resolveEnv } from "../settings";

export const OVERLAYS = ["base", "kind", "minikube", "docker-desktop"] as const;
export type Overlay = (typeof OVERLAYS)[number];

/** The Kubernetes version `helm template` renders for (Capabilities); the charts need 1.30+. */
export const KUBE_VERSION = "1.32.0";
/** The preStop pause before SIGTERM, in both the raw manifests and the charts' defaults. */
export const PRESTOP_SLEEP_SECONDS = 5;
/** HPA ceiling when the input names none: room to grow above the requested count. */
const DEFAULT_MAX_REPLICAS = 3;
/** The image names the base manifests and charts use; render input replaces them. */
export const BASE_IMAGES: Record<ServiceName, string> = { service1: "timekit/service1", service2: "timekit/service2" };
/** Node port of service2 on local clusters without a load balancer (kind, minikube). */
export const LOCAL_NODE_PORT = 30080;

export interface ServiceRenderInput {
  /** Repository without tag or digest, e.g. `timekit/service1` or `127.0.0.1:5000/timekit/service1`. */
  image: string;
  /** Version tag, e.g. `1.2.3`; never `latest`. */
  tag: string;
  /** `sha256:…` repository digest; the image is then `image:tag@digest`. */
  digest?: string | null;
  /** Replica floor (the HorizontalPodAutoscaler's minReplicas). */
  replicas: number;
  /** Autoscaling ceiling; default max(3, replicas). */
  maxReplicas?: number;
  /** Settings overrides (environment variable names); unset ones keep the service defaults. */
  env?: Record<string, string>;
}

export interface RenderInput {
  namespace: string;
  overlay: Overlay;
  services: Record<ServiceName, ServiceRenderInput>;
  /** Adds an Ingress for service2 (needs an Ingress controller in the cluster). */
  ingress?: { host: string; className?: string };
}

/** Every problem with a render input (exit 2), found before any tool runs. */
export class RenderInputError extends UsageError {}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Splits `repo[:tag][@digest]` (as the deploy plan stores images) into render fields. */
export function splitImageRef(ref: string): { image: string; tag?: string; digest?: string } {
  const [name = "", digest] = ref.split("@", 2);
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  const hasTag = colon > slash;
  return {
    image: hasTag ? name.slice(0, colon) : name,
    ...(hasTag ? { tag: name.slice(colon + 1) } : {}),
    ...(digest ? { digest } : {}),
  };
}

export interface ResolvedService extends ServiceRenderInput {
  name: ServiceName;
  maxReplicas: number;
  /** The complete environment, checked against the service's own settings schema. */
  env: Record<string, string>;
  terminationGracePeriodSeconds: number;
}

/** preStop pause + shutdown delay + drain timeout (rounded up to seconds) + 2 s to exit and flush. */
export function gracePeriodSeconds(env: Record<string, string>, preStopSeconds = PRESTOP_SLEEP_SECONDS): number {
  const drainMs = Number(env.SHUTDOWN_DELAY_MS ?? 0) + Number(env.DRAIN_TIMEOUT_MS ?? 0);
  return preStopSeconds + Math.ceil(drainMs / 1000) + 2;
}

function resolveService(name: ServiceName, input: ServiceRenderInput | undefined, problems: string[]) {
  if (!input) {
    problems.push(`services.${name} is missing`);
    return undefined;
  }
  const where = `services.${name}`;
  if (!REPOSITORY.test(input.image)) {
    problems.push(`${where}.image=${JSON.stringify(input.image)} must be a repository without tag or digest`);
  }
  if (!TAG.test(input.tag) || input.tag === "latest") {
    problems.push(
      `${where}.tag=${JSON.stringify(input.tag)} must be a version tag (letters, digits, . _ -), not "latest"`,
    );
  }
  if (input.digest && !DIGEST.test(input.digest)) {
    problems.push(`${where}.digest=${JSON.stringify(input.digest)} must be sha256: and 64 hex digits`);
  }
  if (!Number.isInteger(input.replicas) || input.replicas < 1 || input.replicas > MAX_REPLICAS) {
    problems.push(`${where}.replicas=${input.replicas} must be a whole number from 1 to ${MAX_REPLICAS}`);
  }
  const maxReplicas = input.maxReplicas ?? Math.max(DEFAULT_MAX_REPLICAS, input.replicas);
  if (!Number.isInteger(maxReplicas) || maxReplicas < input.replicas || maxReplicas > MAX_REPLICAS) {
    problems.push(`${where}.maxReplicas=${maxReplicas} must be a whole number from replicas to ${MAX_REPLICAS}`);
  }
  let env: Record<string, string> = {};
  try {
    env = resolveEnv(name, input.env ?? {});
  } catch (error) {
    problems.push(`${where}.env: ${(error as Error).message}`);
  }
  return { ...input, name, maxReplicas, env, terminationGracePeriodSeconds: gracePeriodSeconds(env) };
}

/** Checks the whole input and fills in defaults; throws RenderInputError listing every problem. */
export function resolveInput(input: RenderInput): { input: RenderInput; services: ResolvedService[] } {
  const problems: string[] = [];
  if (!DNS_LABEL.test(input.namespace ?? "")) {
    problems.push(`namespace=${JSON.stringify(input.namespace)} must be a DNS label (lowercase letters, digits, -)`);
  }
  if (!OVERLAYS.includes(input.overlay)) {
    problems.push(`overlay=${JSON.stringify(input.overlay)} must be one of ${OVERLAYS.join(", ")}`);
  }
  if (input.ingress && !DNS_NAME.test(input.ingress.host)) {
    problems.push(`ingress.host=${JSON.stringify(input.ingress.host)} must be a DNS name`);
  }
  if (input.ingress?.className !== undefined && !DNS_LABEL.test(input.ingress.className)) {
    problems.push(`ingress.className=${JSON.stringify(input.ingress.className)} must be a DNS label`);
  }
  const services = SERVICES.flatMap((name) => resolveService(name, input.services?.[name], problems) ?? []);
  if (problems.length > 0) throw new RenderInputError(problems);
  return { input, services };
}

export function defaultInput(overrides: Partial<RenderInput> = {}): RenderInput {
  const service = (name: ServiceName): ServiceRenderInput => ({ image: BASE_IMAGES[name], tag: "1.0.0", replicas: 1 });
  return {
    namespace: "timekit",
    overlay: "base",
    services: { service1: service("service1"), service2: service("service2") },
    ...overrides,
  };
}
