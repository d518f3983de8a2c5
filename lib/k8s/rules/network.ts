/** NetworkPolicy coverage: isolation, DNS, and that every Service can be reached by someone. */
import type { IService } from "kubernetes-models/v1";
import { CLUSTER_DNS, type TargetPort } from "../netpol";
import { ofKind } from "../objects";
import { type Context, endpointOf, namespaceOf, type Report, type ServiceTarget, serviceTarget } from "./context";

/* ---------------------------------------------------------- network policy */

export function checkNetworkPolicies(context: Context, report: Report, ingressTargets: ServiceTarget[]): void {
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
