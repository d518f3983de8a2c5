/** What every rule group reads: the rendered set, its pod templates, and shared lookups. */
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import type { IContainer, IService } from "kubernetes-models/v1";
import { type Endpoint, type NetworkPolicies, selectorMatches, type TargetPort, targetPort } from "../netpol";
import { isHook, type K8sObject, ofKind, type PodTemplate } from "../objects";
import type { RuleId } from "../policy";

export type Report = (rule: RuleId, object: K8sObject, message: string) => void;

export interface Context {
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

export function containersOf(template: PodTemplate): { container: IContainer; path: string }[] {
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

export function namespaceOf(object: K8sObject): string {
  return object.metadata.namespace ?? "default";
}

export function endpointOf(template: PodTemplate): Endpoint {
  return { kind: "pod", namespace: namespaceOf(template.owner), labels: template.labels };
}

/** The environment a container sees from `env` values and `envFrom` ConfigMaps in the set. */
export function containerEnv(context: Context, template: PodTemplate, container: IContainer): Record<string, string> {
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
export function resolvePort(template: PodTemplate, port: number | string | undefined): TargetPort | undefined {
  for (const container of template.spec.containers) {
    for (const declared of container.ports ?? []) {
      if (typeof port === "string" ? declared.name === port : declared.containerPort === port) {
        return targetPort(declared);
      }
    }
  }
  return undefined;
}

export function selectedWorkloads(context: Context, namespace: string, selector: Record<string, string> | undefined) {
  if (!selector || Object.keys(selector).length === 0) return [];
  return context.templates.filter(
    (template) =>
      namespaceOf(template.owner) === namespace && selectorMatches({ matchLabels: selector }, template.labels),
  );
}

export function autoscalerFor(context: Context, workload: K8sObject): IHorizontalPodAutoscaler | undefined {
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
export function minimumReplicas(context: Context, workload: K8sObject): number {
  const hpa = autoscalerFor(context, workload);
  if (hpa) return hpa.spec?.minReplicas ?? 1;
  return (workload as unknown as IDeployment).spec?.replicas ?? 1;
}

export interface ServiceTarget {
  service: K8sObject;
  backend: PodTemplate;
  port: TargetPort;
}

/** The Service port a URL or Ingress backend reaches, and the pod port behind it. */
export function serviceTarget(
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
