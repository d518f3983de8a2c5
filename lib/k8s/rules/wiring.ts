/** Selectors, labels, Services, ConfigMaps, ServiceAccounts, upstream URLs and Ingress backends. */
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IIngress } from "kubernetes-models/networking.k8s.io/v1";
import type { IService } from "kubernetes-models/v1";
import { selectorMatches } from "../netpol";
import { isHook, objectId, ofKind } from "../objects";
import {
  type Context,
  containerEnv,
  containersOf,
  endpointOf,
  namespaceOf,
  type Report,
  resolvePort,
  type ServiceTarget,
  selectedWorkloads,
  serviceTarget,
} from "./context";

/* ------------------------------------------------------------------ wiring */

export function checkSelectors(context: Context, report: Report): void {
  for (const template of context.workloads) {
    if (template.owner.kind === "Pod") continue;
    const selector = (template.owner as unknown as IDeployment).spec?.selector;
    if (!selector || !selectorMatches(selector, template.labels) || Object.keys(selector).length === 0) {
      report("wiring.selector", template.owner, "spec.selector does not match spec.template.metadata.labels");
    }
  }
}

export function checkReferences(context: Context, report: Report): void {
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

export function checkServices(context: Context, report: Report): void {
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

export function checkUpstreams(context: Context, report: Report): void {
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

export function checkIngresses(context: Context, report: Report): ServiceTarget[] {
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
