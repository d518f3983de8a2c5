/** Rendered Kubernetes objects: parsing, identity, and the pod templates inside workloads. */
import type { IPod, IPodSpec } from "kubernetes-models/v1";
import { parseAllDocuments } from "yaml";

export type IObjectMeta = NonNullable<IPod["metadata"]>;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: IObjectMeta & { name: string };
  [field: string]: unknown;
}

/** Where a pod spec lives: a workload's template, or a bare Pod (e.g. a `helm test` hook). */
export interface PodTemplate {
  owner: K8sObject;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: IPodSpec;
  /** Path of the pod spec inside the owner, for messages: `spec.template.spec` or `spec`. */
  path: string;
}

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every non-empty YAML document in `text`; throws on bad YAML or a document that is no object. */
export function parseManifests(text: string, source: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const [index, document] of parseAllDocuments(text).entries()) {
    if (document.errors.length > 0) {
      throw new Error(`${source}: document ${index + 1} is not valid YAML: ${document.errors[0]?.message}`);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (!isRecord(value) || typeof value.apiVersion !== "string" || typeof value.kind !== "string") {
      throw new Error(`${source}: document ${index + 1} is not a Kubernetes object (no apiVersion/kind)`);
    }
    const metadata = value.metadata;
    if (!isRecord(metadata) || typeof metadata.name !== "string" || metadata.name === "") {
      throw new Error(`${source}: ${value.kind} in document ${index + 1} has no metadata.name`);
    }
    objects.push(value as K8sObject);
  }
  return objects;
}

/** `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects. */
export function objectId(object: K8sObject): string {
  const { namespace, name } = object.metadata;
  return namespace ? `${object.kind}/${namespace}/${name}` : `${object.kind}/${name}`;
}

export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((object) => object.kind === kind);
}

/** Reads a nested field by path; undefined when any step is missing. */
export function field(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (typeof step === "number" ? !Array.isArray(current) : !isRecord(current)) return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

/** The pod template of a workload or a bare Pod; undefined for other kinds. */
export function podTemplateOf(object: K8sObject): PodTemplate | undefined {
  if (object.kind === "Pod") {
    const spec = field(object, "spec");
    if (!isRecord(spec)) return undefined;
    return {
      owner: object,
      labels: object.metadata.labels ?? {},
      annotations: object.metadata.annotations ?? {},
      spec: spec as unknown as IPodSpec,
      path: "spec",
    };
  }
  if (!WORKLOAD_KINDS.has(object.kind)) return undefined;
  const template = field(object, "spec", "template");
  const spec = field(template, "spec");
  if (!isRecord(spec)) return undefined;
  const metadata = (field(template, "metadata") ?? {}) as IObjectMeta;
  return {
    owner: object,
    labels: metadata.labels ?? {},
    annotations: metadata.annotations ?? {},
    spec: spec as unknown as IPodSpec,
    path: "spec.template.spec",
  };
}

export function podTemplates(objects: readonly K8sObject[]): PodTemplate[] {
  return objects.flatMap((object) => podTemplateOf(object) ?? []);
}

/** Helm hooks (e.g. `helm test` pods) run on demand, not as part of the release's steady state. */
export function isHook(object: K8sObject): boolean {
  return object.metadata.annotations?.["helm.sh/hook"] !== undefined;
}
