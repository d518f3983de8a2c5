/**
 * A small NetworkPolicy evaluator over rendered objects: given a source and a destination, is the
 * connection allowed in both directions (the source's egress and the destination's ingress)?
 * It follows the networking.k8s.io/v1 semantics: a pod selected by any policy of a direction is
 * isolated in that direction, and then only the union of those policies' rules lets traffic pass.
 */
import type { INetworkPolicy, INetworkPolicyPeer, INetworkPolicyPort } from "kubernetes-models/networking.k8s.io/v1";
import type { IPod } from "kubernetes-models/v1";
import { type K8sObject, ofKind } from "./objects";

export type LabelSelector = NonNullable<INetworkPolicyPeer["podSelector"]>;
export type Direction = "Ingress" | "Egress";

/** A pod in the cluster, or anything outside it (`external`: a node, a load balancer, the internet). */
export type Endpoint = { kind: "pod"; namespace: string; labels: Record<string, string> } | { kind: "external" };

/** The port traffic arrives at on the destination pod. */
export interface TargetPort {
  number: number;
  name?: string;
  protocol: "TCP" | "UDP" | "SCTP";
}

type ContainerPort = NonNullable<NonNullable<IPod["spec"]>["containers"][number]["ports"]>[number];

/** The cluster DNS as the charts and manifests address it. */
export const CLUSTER_DNS: Endpoint = { kind: "pod", namespace: "kube-system", labels: { "k8s-app": "kube-dns" } };

/** Label-selector semantics; an empty selector matches everything, a missing one nothing. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = key in labels;
    const value = labels[key];
    const ok =
      operator === "In"
        ? has && values.includes(value as string)
        : operator === "NotIn"
          ? !has || !values.includes(value as string)
          : operator === "Exists"
            ? has
            : operator === "DoesNotExist"
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

export class NetworkPolicies {
  private readonly policies: { namespace: string; spec: NonNullable<INetworkPolicy["spec"]>; object: K8sObject }[];
  private readonly namespaceLabels = new Map<string, Record<string, string>>();

  constructor(objects: readonly K8sObject[], defaultNamespace = "default") {
    this.policies = ofKind(objects, "NetworkPolicy").map((object) => ({
      namespace: object.metadata.namespace ?? defaultNamespace,
      spec: (object as unknown as INetworkPolicy).spec ?? { podSelector: {} },
      object,
    }));
    for (const namespace of ofKind(objects, "Namespace")) {
      this.namespaceLabels.set(namespace.metadata.name, namespace.metadata.labels ?? {});
    }
  }

  private labelsOfNamespace(name: string): Record<string, string> {
    // The API server sets this label on every namespace (Kubernetes 1.22+).
    return { ...this.namespaceLabels.get(name), "kubernetes.io/metadata.name": name };
  }

  private selectingPolicies(pod: Endpoint, direction: Direction) {
    if (pod.kind !== "pod") return [];
    return this.policies.filter(({ namespace, spec }) => {
      // The API's defaulting: Ingress always, Egress when egress rules are given.
      const types = spec.policyTypes ?? (spec.egress?.length ? ["Ingress", "Egress"] : ["Ingress"]);
      return namespace === pod.namespace && types.includes(direction) && selectorMatches(spec.podSelector, pod.labels);
    });
  }

  /** The policies that select the pod for a direction (policyTypes defaults as the API does). */
  selecting(pod: Endpoint, direction: Direction): K8sObject[] {
    return this.selectingPolicies(pod, direction).map(({ object }) => object);
  }

  isolated(pod: Endpoint, direction: Direction): boolean {
    return this.selecting(pod, direction).length > 0;
  }

  private peerMatches(peer: INetworkPolicyPeer, policyNamespace: string, other: Endpoint): boolean {
    if (peer.ipBlock) return other.kind === "external";
    if (other.kind === "external") return false;
    const namespaceOk = peer.namespaceSelector
      ? selectorMatches(peer.namespaceSelector, this.labelsOfNamespace(other.namespace))
      : other.namespace === policyNamespace;
    const podOk = peer.podSelector ? selectorMatches(peer.podSelector, other.labels) : true;
    return namespaceOk && podOk;
  }

  private portMatches(ports: readonly INetworkPolicyPort[] | undefined, port: TargetPort): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((rule) => {
      if ((rule.protocol ?? "TCP") !== port.protocol) return false;
      if (rule.port === undefined) return true;
      if (typeof rule.port === "string") return rule.port === port.name;
      return rule.endPort === undefined
        ? rule.port === port.number
        : port.number >= rule.port && port.number <= rule.endPort;
    });
  }

  private rules(pod: Endpoint, direction: Direction) {
    return this.selectingPolicies(pod, direction).flatMap(({ namespace, spec }) =>
      (direction === "Ingress" ? (spec.ingress ?? []) : (spec.egress ?? [])).map((rule) => ({
        namespace,
        peers: "from" in rule ? rule.from : "to" in rule ? rule.to : undefined,
        ports: rule.ports,
      })),
    );
  }

  /** Whether `pod`'s policies let traffic in from `peer` (Ingress) or out to `peer` (Egress) on `port`. */
  allows(pod: Endpoint, direction: Direction, peer: Endpoint, port: TargetPort): boolean {
    if (!this.isolated(pod, direction)) return true;
    return this.rules(pod, direction).some(
      ({ namespace, peers, ports }) =>
        (!peers || peers.length === 0 || peers.some((p) => this.peerMatches(p, namespace, peer))) &&
        this.portMatches(ports, port),
    );
  }

  /** A connection from `source` to `destination` on `port`: both ends' policies must agree. */
  connects(source: Endpoint, destination: Endpoint, port: TargetPort): boolean {
    return this.allows(source, "Egress", destination, port) && this.allows(destination, "Ingress", source, port);
  }

  /** Whether some ingress rule of the pod admits sources outside its namespace on `port`. */
  admitsOutside(pod: Endpoint, port: TargetPort): boolean {
    if (!this.isolated(pod, "Ingress")) return true;
    return this.rules(pod, "Ingress").some(
      ({ peers, ports }) =>
        (!peers || peers.length === 0 || peers.some((p) => p.ipBlock || p.namespaceSelector)) &&
        this.portMatches(ports, port),
    );
  }
}

/** A container port as a NetworkPolicy target. */
export function targetPort(port: ContainerPort): TargetPort {
  return {
    number: port.containerPort,
    ...(port.name ? { name: port.name } : {}),
    protocol: (port.protocol ?? "TCP") as TargetPort["protocol"],
  };
}
