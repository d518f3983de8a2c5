/**
 * A renderer-neutral summary of what matters in a rendered set: each service's security posture,
 * runtime settings, scaling, exposure, and who may talk to whom. Raw and Helm output must give the
 * same summary for the same input; names, labels and Helm's bookkeeping are left out on purpose.
 */
import type { IContainer, IService } from "kubernetes-models/v1";
import { CLUSTER_DNS, type Endpoint, NetworkPolicies, type TargetPort } from "../../lib/k8s/netpol";
import { isHook, type K8sObject, type PodTemplate, podTemplates } from "../../lib/k8s/objects";

// biome-ignore lint/suspicious/noExplicitAny: reads nested fields of rendered objects
type Any = any;

function env(objects: readonly K8sObject[], container: IContainer): Record<string, string> {
  const names = (container.envFrom ?? []).map((source) => source.configMapRef?.name);
  const maps = objects.filter((o) => o.kind === "ConfigMap" && names.includes(o.metadata.name));
  return Object.assign({}, ...maps.map((map) => map.data as Record<string, string>));
}

function serviceOf(objects: readonly K8sObject[], template: PodTemplate): Any {
  return objects.find(
    (o) =>
      o.kind === "Service" &&
      Object.entries((o as unknown as IService).spec?.selector ?? {}).every(([k, v]) => template.labels[k] === v),
  );
}

function scaling(objects: readonly K8sObject[], owner: K8sObject) {
  const hpa: Any = objects.find(
    (o) => o.kind === "HorizontalPodAutoscaler" && (o as Any).spec.scaleTargetRef.name === owner.metadata.name,
  );
  const pdb: Any = objects.find((o) => o.kind === "PodDisruptionBudget" && o.metadata.name === owner.metadata.name);
  return {
    replicas: (owner as Any).spec.replicas,
    hpa: hpa && { min: hpa.spec.minReplicas, max: hpa.spec.maxReplicas, metrics: hpa.spec.metrics },
    pdb: pdb && { maxUnavailable: pdb.spec.maxUnavailable, minAvailable: pdb.spec.minAvailable },
  };
}

function port(container: IContainer): TargetPort {
  const [declared] = container.ports ?? [];
  return { number: declared?.containerPort ?? 0, protocol: "TCP", ...(declared?.name ? { name: declared.name } : {}) };
}

export function posture(objects: readonly K8sObject[]) {
  const policies = new NetworkPolicies(objects);
  const workloads = podTemplates(objects).filter((t) => !isHook(t.owner));
  const byName = new Map(workloads.map((t) => [t.spec.containers[0]?.name ?? "?", t]));
  const endpoint = (t: PodTemplate): Endpoint => ({
    kind: "pod",
    namespace: t.owner.metadata.namespace ?? "",
    labels: t.labels,
  });
  const neighbour: Endpoint = { kind: "pod", namespace: workloads[0]?.owner.metadata.namespace ?? "", labels: {} };

  const services = Object.fromEntries(
    [...byName].map(([name, template]) => {
      const { spec } = template;
      const container = spec.containers[0] as IContainer;
      const service = serviceOf(objects, template);
      const ingress: Any = objects.find(
        (o) =>
          o.kind === "Ingress" &&
          (o as Any).spec.rules[0].http.paths[0].backend.service.name === service?.metadata.name,
      );
      const target = port(container);
      return [
        name,
        {
          image: container.image,
          pod: {
            securityContext: spec.securityContext,
            automountServiceAccountToken: spec.automountServiceAccountToken,
            enableServiceLinks: spec.enableServiceLinks,
            terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
            volumes: spec.volumes,
            topologySpreadConstraints: spec.topologySpreadConstraints?.length,
          },
          container: {
            securityContext: container.securityContext,
            resources: container.resources,
            ports: container.ports,
            probes: [container.startupProbe, container.livenessProbe, container.readinessProbe],
            lifecycle: container.lifecycle,
            volumeMounts: container.volumeMounts,
            imagePullPolicy: container.imagePullPolicy,
            env: env(objects, container),
          },
          strategy: (template.owner as Any).spec.strategy,
          scaling: scaling(objects, template.owner),
          service: service && {
            type: service.spec.type,
            ports: service.spec.ports.map((p: Any) => ({ port: p.port, nodePort: p.nodePort, protocol: p.protocol })),
          },
          ingress: ingress && { host: ingress.spec.rules[0].host, className: ingress.spec.ingressClassName },
          network: {
            // Who may open a connection to this service's port.
            from: Object.fromEntries([
              ...[...byName].map(([other, t]) => [other, policies.connects(endpoint(t), endpoint(template), target)]),
              ["outside", policies.admitsOutside(endpoint(template), target)],
              ["neighbour", policies.allows(endpoint(template), "Ingress", neighbour, target)],
            ]),
            // Where this service's pods may connect.
            dns: policies.connects(endpoint(template), CLUSTER_DNS, { number: 53, protocol: "UDP" }),
            internet: policies.allows(
              endpoint(template),
              "Egress",
              { kind: "external" },
              { number: 443, protocol: "TCP" },
            ),
            isolated: [
              policies.isolated(endpoint(template), "Ingress"),
              policies.isolated(endpoint(template), "Egress"),
            ],
          },
        },
      ];
    }),
  );
  return services;
}
