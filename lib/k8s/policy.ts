/**
 * The policy check over rendered objects (raw manifests and Helm output alike): the restricted Pod
 * Security profile, probes, resources, image references, NetworkPolicy coverage, and the wiring
 * between selectors, labels, Services, ConfigMaps, PodDisruptionBudgets and autoscalers. Every
 * finding names the rule, the object and what to change. The rules live in rules/*.ts.
 */
import { NetworkPolicies } from "./netpol";
import { isHook, type K8sObject, objectId, ofKind, podTemplates } from "./objects";
import type { Context, Report } from "./rules/context";
import { checkNamespaces } from "./rules/namespaces";
import { checkNetworkPolicies } from "./rules/network";
import { checkImages, checkPodSecurity, checkResources, checkWorkloads } from "./rules/pods";
import { checkAutoscalers, checkDisruptionBudgets } from "./rules/scaling";
import { checkIngresses, checkReferences, checkSelectors, checkServices, checkUpstreams } from "./rules/wiring";

export { parseQuantity } from "./rules/context";

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
