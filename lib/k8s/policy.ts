/**
 * The policy check over rendered objects (raw manifests and Helm output alike): the restricted Pod
 * Security profile, probes, resources, image references, NetworkPolicy coverage, and the wiring
 * between selectors, labels, Services, ConfigMaps, PodDisruptionBudgets and autoscalers. Every
 * finding names the rule, the object and what to change.
 */
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import type { IIngress } from "kubernetes-models/networking.k8s.io/v1";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1";
import type { IContainer, IProbe, IService } from "kubernetes-models/v1";
import { CLUSTER_DNS, type Endpoint, NetworkPolicies, selectorMatches, type TargetPort, targetPort } from "./netpol";
import { isHook, type K8sObject, objectId, ofKind, type PodTemplate, podTemplates } from "./objects";
import { defaultEnv } from "./settings";

export const RULES = {
  "pod.run-as-non-root": "pods run with runAsNonRoot: true",
  "pod.run-as-user": "containers run as the image's non-root UID",
  "pod.seccomp": "containers use the RuntimeDefault (or a Localhost) seccomp profile",
  "pod.service-account-token": "pods set automountServiceAccountToken: false",
  "pod.host-access": "no host network, PID, IPC, ports or paths",
  "pod.service-links": "pods set enableServiceLinks: false (settings come from environment variables)",
  "container.privilege-escalation": "containers set allowPrivilegeEscalation: false",
  "container.capabilities": "containers drop ALL capabilities and add none but NET_BIND_SERVICE",
  "container.privileged": "no privileged containers",
  "container.read-only-root": "containers set readOnlyRootFilesystem: true",
  "container.resources": "containers request and limit cpu and memory, limits at least the requests",
  "container.image": "images name a version tag or digest, never latest",
  "workload.probes": "startup and liveness probes GET /healthz, readiness GETs /readyz, on a declared port",
  "workload.prestop": "a preStop sleep lets endpoints drop the pod before SIGTERM (no shell in the image)",
  "workload.grace-period": "terminationGracePeriodSeconds covers the preStop pause, shutdown delay and drain",
  "workload.port": "the container declares the port its PORT setting listens on",
  "wiring.selector": "a workload's selector matches its pod template labels",
  "wiring.config": "ConfigMaps and Secrets that pods read are part of the rendered set",
  "wiring.service-account": "pods use a dedicated ServiceAccount that is part of the rendered set",
  "wiring.service": "each Service selects the pods of exactly one workload, on a port they declare",
  "wiring.upstream": "URLs in settings name a rendered Service and port, and NetworkPolicy lets the call through",
  "wiring.ingress": "Ingress backends name a rendered Service and one of its ports",
  "netpol.isolation": "every pod is selected by NetworkPolicies for both Ingress and Egress",
  "netpol.dns": "every pod may reach the cluster DNS on port 53 (UDP and TCP)",
  "netpol.reachable": "every Service's pods admit traffic from someone (a rendered client or outside)",
  "netpol.exposed": "Services exposed outside the cluster admit traffic from outside their namespace",
  "pdb.selector": "each PodDisruptionBudget selects the pods of exactly one workload",
  "pdb.blocking": "a PodDisruptionBudget leaves at least one pod evictable, so node drains never block",
  "hpa.target": "each HorizontalPodAutoscaler targets a rendered workload",
  "hpa.range": "1 <= minReplicas <= maxReplicas",
  "hpa.replicas": "a workload scaled by an autoscaler sets no spec.replicas (apply would reset the count)",
  "namespace.pod-security": "namespaces enforce the restricted Pod Security Standard",
  "namespace.consistent": "every namespaced object names the same namespace",
} as const;

export type RuleId = keyof typeof RULES;

export interface Violation {
  rule: RuleId;
  /** `Kind/namespace/name`. */
  object: string;
  message: string;
}

export interface PolicyOptions {
  /** The UID the images run as. */
  uid?: number;
}

const DEFAULT_UID = 65532;
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass", "StorageClass"]);
const SCALABLE = new Set(["Deployment", "StatefulSet", "ReplicaSet"]);

type Report = (rule: RuleId, object: K8sObject, message: string) => void;

interface Context {
  objects: readonly K8sObject[];
  templates: PodTemplate[];
  /** Templates of workloads that run steadily (not Helm hooks such as test pods). */
  workloads: PodTemplate[];
  policies: NetworkPolicies;
  namespaces: Set<string>;
  uid: number;
}

/* ----------------------------------------------------------------- helpers */

const UNITS: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity as a number (cpu in cores, memory in bytes); NaN when malformed. */
export function parseQuantity(quantity: string | number | undefined): number {
  if (quantity === undefined) return Number.NaN;
  if (typeof quantity === "number") return quantity;
  const match = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(quantity.trim());
  const unit = match ? UNITS[match[2] ?? ""] : undefined;
  return match && unit !== undefined ? Number(match[1]) * unit : Number.NaN;
}

function containersOf(template: PodTemplate): { container: IContainer; path: string }[] {
  const init = (template.spec.initContainers ?? []).map((container, index) => ({
    container,
    path: `${template.path}.initContainers[${index}]`,
  }));
  const main = template.spec.containers.map((container, index) => ({
    container,
    path: `${template.path}.containers[${index}]`,
  }));
  return [...init, ...main];
}

function namespaceOf(object: K8sObject): string {
  return object.metadata.namespace ?? "default";
}

function endpointOf(template: PodTemplate): Endpoint {
  return { kind: "pod", namespace: namespaceOf(template.owner), labels: template.labels };
}

/** The environment a container sees from `env` values and `envFrom` ConfigMaps in the set. */
function containerEnv(context: Context, template: PodTemplate, container: IContainer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    const configMap = context.objects.find(
      (object) =>
        object.kind === "ConfigMap" &&
        object.metadata.name === name &&
        namespaceOf(object) === namespaceOf(template.owner),
    );
    const data = (configMap?.data ?? {}) as Record<string, string>;
    for (const [key, value] of Object.entries(data)) env[`${source.prefix ?? ""}${key}`] = String(value);
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
  }
  return env;
}

/** The container port a Service or probe port (number or name) refers to. */
function resolvePort(template: PodTemplate, port: number | string | undefined): TargetPort | undefined {
  for (const container of template.spec.containers) {
    for (const declared of container.ports ?? []) {
      if (typeof port === "string" ? declared.name === port : declared.containerPort === port) {
        return targetPort(declared);
      }
    }
  }
  return undefined;
}

function selectedWorkloads(context: Context, namespace: string, selector: Record<string, string> | undefined) {
  if (!selector || Object.keys(selector).length === 0) return [];
  return context.templates.filter(
    (template) =>
      namespaceOf(template.owner) === namespace && selectorMatches({ matchLabels: selector }, template.labels),
  );
}

function autoscalerFor(context: Context, workload: K8sObject): IHorizontalPodAutoscaler | undefined {
  return ofKind(context.objects, "HorizontalPodAutoscaler")
    .map((object) => object as unknown as IHorizontalPodAutoscaler)
    .find(
      (hpa) =>
        hpa.spec?.scaleTargetRef.kind === workload.kind &&
        hpa.spec.scaleTargetRef.name === workload.metadata.name &&
        (hpa.metadata?.namespace ?? "default") === namespaceOf(workload),
    );
}

/** The fewest replicas a workload runs: the autoscaler's floor, else spec.replicas, else 1. */
function minimumReplicas(context: Context, workload: K8sObject): number {
  const hpa = autoscalerFor(context, workload);
  if (hpa) return hpa.spec?.minReplicas ?? 1;
  return (workload as unknown as IDeployment).spec?.replicas ?? 1;
}

/* ---------------------------------------------------- pod security profile */

function checkPodSecurity(context: Context, report: Report): void {
  for (const template of context.templates) {
    const { owner, spec, path } = template;
    const pod = spec.securityContext ?? {};
    if (spec.automountServiceAccountToken !== false) {
      report("pod.service-account-token", owner, `${path}.automountServiceAccountToken must be false`);
    }
    if (spec.enableServiceLinks !== false) {
      report("pod.service-links", owner, `${path}.enableServiceLinks must be false`);
    }
    if (spec.hostNetwork || spec.hostPID || spec.hostIPC) {
      report("pod.host-access", owner, `${path} must not set hostNetwork, hostPID or hostIPC`);
    }
    for (const volume of spec.volumes ?? []) {
      if (volume.hostPath) report("pod.host-access", owner, `volume ${volume.name} must not be a hostPath`);
    }
    for (const { container, path: where } of containersOf(template)) {
      const own = container.securityContext ?? {};
      if ((own.runAsNonRoot ?? pod.runAsNonRoot) !== true) {
        report("pod.run-as-non-root", owner, `${where} must run with runAsNonRoot: true`);
      }
      const uid = own.runAsUser ?? pod.runAsUser;
      if (uid !== context.uid) {
        report("pod.run-as-user", owner, `${where} runs as UID ${uid ?? "(image default)"}, expected ${context.uid}`);
      }
      const seccomp = (own.seccompProfile ?? pod.seccompProfile)?.type;
      if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
        report("pod.seccomp", owner, `${where} seccompProfile.type is ${seccomp ?? "unset"}, expected RuntimeDefault`);
      }
      if (own.allowPrivilegeEscalation !== false) {
        report(
          "container.privilege-escalation",
          owner,
          `${where}.securityContext.allowPrivilegeEscalation must be false`,
        );
      }
      if (own.privileged === true) report("container.privileged", owner, `${where} must not be privileged`);
      if (own.readOnlyRootFilesystem !== true) {
        report("container.read-only-root", owner, `${where}.securityContext.readOnlyRootFilesystem must be true`);
      }
      const caps = own.capabilities ?? {};
      const added = (caps.add ?? []).filter((cap) => cap !== "NET_BIND_SERVICE");
      if (!(caps.drop ?? []).includes("ALL") || added.length > 0) {
        report("container.capabilities", owner, `${where} must drop ALL capabilities and add none (adds: ${added})`);
      }
      for (const port of container.ports ?? []) {
        if (port.hostPort) report("pod.host-access", owner, `${where} must not use hostPort ${port.hostPort}`);
      }
    }
  }
}

/* ------------------------------------------------- containers and images */

function checkResources(context: Context, report: Report): void {
  for (const template of context.templates) {
    for (const { container, path } of containersOf(template)) {
      const { requests = {}, limits = {} } = container.resources ?? {};
      for (const resource of ["cpu", "memory"] as const) {
        const request = parseQuantity(requests[resource]);
        const limit = parseQuantity(limits[resource]);
        if (!(request > 0) || !(limit > 0)) {
          report("container.resources", template.owner, `${path} must set requests.${resource} and limits.${resource}`);
        } else if (limit < request) {
          report("container.resources", template.owner, `${path} limits.${resource} is below requests.${resource}`);
        }
      }
    }
  }
}

/** `repo:tag`, `repo@sha256:…` or both; no tag and no digest means `latest`. */
function checkImages(context: Context, report: Report): void {
  for (const template of context.templates) {
    for (const { container, path } of containersOf(template)) {
      const image = container.image ?? "";
      const [name = "", digest] = image.split("@", 2);
      const colon = name.lastIndexOf(":");
      const tag = colon > name.lastIndexOf("/") ? name.slice(colon + 1) : undefined;
      if (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest)) {
        report("container.image", template.owner, `${path} image ${image} has a malformed digest`);
      } else if (tag === "latest") {
        report("container.image", template.owner, `${path} image ${image} uses the floating tag latest`);
      } else if (!tag && !digest) {
        report("container.image", template.owner, `${path} image ${JSON.stringify(image)} names no tag or digest`);
      }
    }
  }
}

/* --------------------------------------------------------------- workloads */

function probeProblem(template: PodTemplate, probe: IProbe | undefined, path: string): string | undefined {
  if (!probe) return "is missing";
  if (!probe.httpGet) return "must be an httpGet probe";
  if (probe.httpGet.path !== path) return `must GET ${path}, not ${probe.httpGet.path}`;
  if (!resolvePort(template, probe.httpGet.port)) return `port ${probe.httpGet.port} is not a declared container port`;
  return undefined;
}

function checkWorkloads(context: Context, report: Report): void {
  const defaults = defaultEnv("service1");
  for (const template of context.workloads) {
    const { owner, spec, path } = template;
    let longestStopSeconds = 0;
    for (const [index, container] of spec.containers.entries()) {
      const where = `${path}.containers[${index}]`;
      const probes: [string, IProbe | undefined, string][] = [
        ["startupProbe", container.startupProbe, "/healthz"],
        ["livenessProbe", container.livenessProbe, "/healthz"],
        ["readinessProbe", container.readinessProbe, "/readyz"],
      ];
      for (const [name, probe, route] of probes) {
        const problem = probeProblem(template, probe, route);
        if (problem) report("workload.probes", owner, `${where}.${name} ${problem}`);
      }

      const sleep = container.lifecycle?.preStop?.sleep?.seconds;
      if (!sleep || sleep < 1) {
        report("workload.prestop", owner, `${where}.lifecycle.preStop.sleep.seconds must be at least 1`);
      }
      const env = containerEnv(context, template, container);
      const drainMs =
        Number(env.SHUTDOWN_DELAY_MS ?? defaults.SHUTDOWN_DELAY_MS) +
        Number(env.DRAIN_TIMEOUT_MS ?? defaults.DRAIN_TIMEOUT_MS);
      longestStopSeconds = Math.max(longestStopSeconds, (sleep ?? 0) + Math.ceil(drainMs / 1000) + 1);

      if (env.PORT !== undefined && !container.ports?.some((port) => port.containerPort === Number(env.PORT))) {
        report("workload.port", owner, `${where} listens on PORT=${env.PORT} but declares no such containerPort`);
      }
    }
    const grace = spec.terminationGracePeriodSeconds ?? 30;
    if (grace < longestStopSeconds) {
      report(
        "workload.grace-period",
        owner,
        `${path}.terminationGracePeriodSeconds is ${grace}; the preStop pause, shutdown delay and drain need ${longestStopSeconds}`,
      );
    }
  }
}

/* ------------------------------------------------------------------ wiring */

function checkSelectors(context: Context, report: Report): void {
  for (const template of context.workloads) {
    if (template.owner.kind === "Pod") continue;
    const selector = (template.owner as unknown as IDeployment).spec?.selector;
    if (!selector || !selectorMatches(selector, template.labels) || Object.keys(selector).length === 0) {
      report("wiring.selector", template.owner, "spec.selector does not match spec.template.metadata.labels");
    }
  }
}

function checkReferences(context: Context, report: Report): void {
  const has = (kind: string, name: string | undefined, namespace: string) =>
    context.objects.some(
      (object) => object.kind === kind && object.metadata.name === name && namespaceOf(object) === namespace,
    );
  for (const template of context.templates) {
    const namespace = namespaceOf(template.owner);
    for (const { container, path } of containersOf(template)) {
      for (const source of container.envFrom ?? []) {
        const ref = source.configMapRef ?? source.secretRef;
        const kind = source.configMapRef ? "ConfigMap" : "Secret";
        if (ref && ref.optional !== true && !has(kind, ref.name, namespace)) {
          report("wiring.config", template.owner, `${path}.envFrom names ${kind} ${ref.name}, which is not rendered`);
        }
      }
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.configMapKeyRef ?? variable.valueFrom?.secretKeyRef;
        const kind = variable.valueFrom?.configMapKeyRef ? "ConfigMap" : "Secret";
        if (ref && ref.optional !== true && !has(kind, ref.name, namespace)) {
          report(
            "wiring.config",
            template.owner,
            `${path}.env ${variable.name} reads ${kind} ${ref.name}, not rendered`,
          );
        }
      }
    }
    const account = template.spec.serviceAccountName;
    if (!account || account === "default") {
      report("wiring.service-account", template.owner, `${template.path} must name a dedicated serviceAccountName`);
    } else if (!has("ServiceAccount", account, namespace)) {
      report("wiring.service-account", template.owner, `ServiceAccount ${account} is not rendered`);
    }
  }
}

function checkServices(context: Context, report: Report): void {
  for (const object of ofKind(context.objects, "Service")) {
    const service = object as unknown as IService;
    const selected = selectedWorkloads(context, namespaceOf(object), service.spec?.selector);
    const hooks = selected.filter((template) => isHook(template.owner));
    const backends = selected.filter((template) => !isHook(template.owner));
    if (hooks.length > 0) {
      report("wiring.service", object, `selects hook pods too: ${hooks.map((t) => objectId(t.owner)).join(", ")}`);
    }
    const [backend] = backends;
    if (backends.length !== 1 || !backend) {
      report("wiring.service", object, `selects ${backends.length} workloads; expected exactly one`);
      continue;
    }
    for (const port of service.spec?.ports ?? []) {
      if (!resolvePort(backend, port.targetPort ?? port.port)) {
        report("wiring.service", object, `port ${port.port} targets ${port.targetPort ?? port.port}, not declared`);
      }
    }
  }
}

interface ServiceTarget {
  service: K8sObject;
  backend: PodTemplate;
  port: TargetPort;
}

/** The Service port a URL or Ingress backend reaches, and the pod port behind it. */
function serviceTarget(
  context: Context,
  namespace: string,
  name: string,
  port: number | string | undefined,
): ServiceTarget | string {
  const service = context.objects.find(
    (object) => object.kind === "Service" && object.metadata.name === name && namespaceOf(object) === namespace,
  );
  if (!service) return `Service ${namespace}/${name} is not rendered`;
  const spec = (service as unknown as IService).spec;
  const servicePort = spec?.ports?.find((p) => (typeof port === "string" ? p.name === port : p.port === port));
  if (!servicePort) return `Service ${namespace}/${name} has no port ${port}`;
  const backend = selectedWorkloads(context, namespace, spec?.selector).find((t) => !isHook(t.owner));
  const target = backend && resolvePort(backend, servicePort.targetPort ?? servicePort.port);
  if (!backend || !target) return `Service ${namespace}/${name} port ${port} reaches no pod port`;
  return { service, backend, port: target };
}

/** A URL host that names a Service in the cluster: `name`, `name.ns`, `name.ns.svc[.cluster.local]`. */
function clusterService(context: Context, host: string, namespace: string): { name: string; namespace: string } | null {
  const parts = host.split(".");
  const [name = "", ns] = parts;
  if (parts.length === 1) return { name, namespace };
  if (ns === undefined) return null;
  const rest = parts.slice(2).join(".");
  if (rest === "svc" || rest === "svc.cluster.local") return { name, namespace: ns };
  if (parts.length === 2 && context.namespaces.has(ns)) return { name, namespace: ns };
  return null;
}

function checkUpstreams(context: Context, report: Report): void {
  for (const template of context.templates) {
    for (const container of template.spec.containers) {
      for (const [variable, value] of Object.entries(containerEnv(context, template, container))) {
        if (!/^https?:\/\//.test(value) || !URL.canParse(value)) continue;
        const url = new URL(value);
        const named = clusterService(context, url.hostname, namespaceOf(template.owner));
        if (!named) continue;
        const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
        const target = serviceTarget(context, named.namespace, named.name, port);
        if (typeof target === "string") {
          report("wiring.upstream", template.owner, `${variable}=${value}: ${target}`);
        } else if (!context.policies.connects(endpointOf(template), endpointOf(target.backend), target.port)) {
          report(
            "wiring.upstream",
            template.owner,
            `${variable}=${value}: NetworkPolicy blocks the call to ${objectId(target.backend.owner)} port ${target.port.name ?? target.port.number}`,
          );
        }
      }
    }
  }
}

function ingressBackends(ingress: IIngress): { name: string; port: number | string | undefined }[] {
  const backends = [
    ingress.spec?.defaultBackend,
    ...(ingress.spec?.rules ?? []).flatMap((rule) => rule.http?.paths ?? []).map((p) => p.backend),
  ];
  return backends.flatMap((backend) =>
    backend?.service
      ? [{ name: backend.service.name, port: backend.service.port?.name ?? backend.service.port?.number }]
      : [],
  );
}

function checkIngresses(context: Context, report: Report): ServiceTarget[] {
  const exposed: ServiceTarget[] = [];
  for (const object of ofKind(context.objects, "Ingress")) {
    for (const { name, port } of ingressBackends(object as unknown as IIngress)) {
      const target = serviceTarget(context, namespaceOf(object), name, port);
      if (typeof target === "string") report("wiring.ingress", object, target);
      else exposed.push(target);
    }
  }
  return exposed;
}

/* ---------------------------------------------------------- network policy */

function checkNetworkPolicies(context: Context, report: Report, ingressTargets: ServiceTarget[]): void {
  const dnsPorts: TargetPort[] = [
    { number: 53, protocol: "UDP" },
    { number: 53, protocol: "TCP" },
  ];
  for (const template of context.templates) {
    const pod = endpointOf(template);
    for (const direction of ["Ingress", "Egress"] as const) {
      if (!context.policies.isolated(pod, direction)) {
        report("netpol.isolation", template.owner, `no NetworkPolicy selects its pods for ${direction}`);
      }
    }
    for (const port of dnsPorts) {
      if (!context.policies.connects(pod, CLUSTER_DNS, port)) {
        report(
          "netpol.dns",
          template.owner,
          `its pods may not reach the cluster DNS on ${port.number}/${port.protocol}`,
        );
      }
    }
  }

  for (const object of ofKind(context.objects, "Service")) {
    const service = object as unknown as IService;
    for (const servicePort of service.spec?.ports ?? []) {
      const target = serviceTarget(context, namespaceOf(object), object.metadata.name, servicePort.port);
      if (typeof target === "string") continue; // wiring.service reports it
      const backend = endpointOf(target.backend);
      const outside = context.policies.admitsOutside(backend, target.port);
      const fromClient = context.templates.some(
        (client) => client !== target.backend && context.policies.connects(endpointOf(client), backend, target.port),
      );
      if (!outside && !fromClient) {
        report("netpol.reachable", object, `no rendered pod and no outside source may reach port ${servicePort.port}`);
      }
      const exposed =
        service.spec?.type === "NodePort" ||
        service.spec?.type === "LoadBalancer" ||
        ingressTargets.some((t) => t.service === object);
      if (exposed && !outside) {
        report("netpol.exposed", object, `is exposed outside the cluster, but its pods admit no outside traffic`);
      }
    }
  }
}

/* ------------------------------------------------------ disruption, scaling */

function checkDisruptionBudgets(context: Context, report: Report): void {
  for (const object of ofKind(context.objects, "PodDisruptionBudget")) {
    const spec = (object as unknown as IPodDisruptionBudget).spec ?? {};
    const selected = context.workloads.filter(
      (t) => namespaceOf(t.owner) === namespaceOf(object) && selectorMatches(spec.selector, t.labels),
    );
    const [workload] = selected;
    if (selected.length !== 1 || !workload) {
      report("pdb.selector", object, `selects ${selected.length} workloads; expected exactly one`);
      continue;
    }
    const replicas = minimumReplicas(context, workload.owner);
    const { maxUnavailable, minAvailable } = spec;
    const percent = (value: string) => Number(value.replace("%", ""));
    if (maxUnavailable !== undefined) {
      if (typeof maxUnavailable === "number" ? maxUnavailable < 1 : percent(maxUnavailable) <= 0) {
        report("pdb.blocking", object, `maxUnavailable ${maxUnavailable} allows no eviction`);
      }
    } else if (minAvailable !== undefined) {
      if (typeof minAvailable === "number" ? minAvailable >= replicas : percent(minAvailable) >= 100) {
        report("pdb.blocking", object, `minAvailable ${minAvailable} with ${replicas} replica(s) allows no eviction`);
      }
    }
  }
}

function checkAutoscalers(context: Context, report: Report): void {
  for (const object of ofKind(context.objects, "HorizontalPodAutoscaler")) {
    const spec = (object as unknown as IHorizontalPodAutoscaler).spec;
    const ref = spec?.scaleTargetRef;
    const target = context.workloads.find(
      (t) =>
        t.owner.kind === ref?.kind &&
        t.owner.metadata.name === ref.name &&
        namespaceOf(t.owner) === namespaceOf(object) &&
        SCALABLE.has(t.owner.kind),
    );
    const min = spec?.minReplicas ?? 1;
    const max = spec?.maxReplicas ?? 0;
    if (min < 1 || min > max) report("hpa.range", object, `minReplicas ${min} and maxReplicas ${max} are out of order`);
    if (!target) {
      report("hpa.target", object, `scaleTargetRef ${ref?.kind}/${ref?.name} is not a rendered scalable workload`);
      continue;
    }
    if ((target.owner as unknown as IDeployment).spec?.replicas !== undefined) {
      report("hpa.replicas", target.owner, `sets spec.replicas although ${objectId(object)} scales it`);
    }
  }
}

/* -------------------------------------------------------------- namespaces */

function checkNamespaces(context: Context, report: Report): void {
  for (const object of ofKind(context.objects, "Namespace")) {
    if (object.metadata.labels?.["pod-security.kubernetes.io/enforce"] !== "restricted") {
      report("namespace.pod-security", object, "label pod-security.kubernetes.io/enforce must be restricted");
    }
  }
  const namespaced = context.objects.filter((object) => !CLUSTER_SCOPED.has(object.kind));
  const names = new Set(namespaced.map((object) => object.metadata.namespace));
  if (names.size > 1 || names.has(undefined)) {
    for (const object of namespaced) {
      if (!object.metadata.namespace) report("namespace.consistent", object, "metadata.namespace is not set");
    }
    if (names.size > 1 && !names.has(undefined)) {
      const [first] = namespaced;
      if (first) report("namespace.consistent", first, `objects span namespaces ${[...names].join(", ")}`);
    }
  }
}

/** Every violation in the rendered set; an empty list means it passes. */
export function checkPolicy(objects: readonly K8sObject[], options: PolicyOptions = {}): Violation[] {
  const templates = podTemplates(objects);
  const context: Context = {
    objects,
    templates,
    workloads: templates.filter((template) => !isHook(template.owner)),
    policies: new NetworkPolicies(objects),
    namespaces: new Set([
      ...ofKind(objects, "Namespace").map((object) => object.metadata.name),
      ...objects.flatMap((object) => object.metadata.namespace ?? []),
    ]),
    uid: options.uid ?? DEFAULT_UID,
  };
  const violations: Violation[] = [];
  const report: Report = (rule, object, message) => violations.push({ rule, object: objectId(object), message });

  checkPodSecurity(context, report);
  checkResources(context, report);
  checkImages(context, report);
  checkWorkloads(context, report);
  checkSelectors(context, report);
  checkReferences(context, report);
  checkServices(context, report);
  checkUpstreams(context, report);
  const exposed = checkIngresses(context, report);
  checkNetworkPolicies(context, report, exposed);
  checkDisruptionBudgets(context, report);
  checkAutoscalers(context, report);
  checkNamespaces(context, report);
  return violations;
}

/** One line per violation, for error messages and test output. */
export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.rule}  ${v.object}: ${v.message}`).join("\n");
}
