/**
 * kubectl and helm command lines of the Kubernetes targets, as pure functions (table-tested in
 * tests/targets): they prove the commands' shape, not that a cluster accepts them; the kind
 * workflow runs them for real.
 */
import { join } from "node:path";
import { probeCommand } from "../deploy/gate";
import type { ImageLoader, K8sSettings, K8sTargetKind } from "../deploy/plan";
import type { HelmRelease } from "../k8s/render";
import { SERVICES, type ServiceName } from "../services";

/** `--context C` for kubectl (global flag), when a context was named. */
export function contextArgs(k8s: Pick<K8sSettings, "context">): string[] {
  return k8s.context ? ["--context", k8s.context] : [];
}

/** `--kube-context C` for helm. */
export function helmContextArgs(k8s: Pick<K8sSettings, "context">): string[] {
  return k8s.context ? ["--kube-context", k8s.context] : [];
}

const seconds = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))}s`;

/** kubectl's global flags for a command in the namespace. */
const inNamespace = (k8s: K8sSettings) => [...contextArgs(k8s), "--namespace", k8s.namespace];

/** helm's release-level flags. */
const helmIn = (k8s: K8sSettings) => [...helmContextArgs(k8s), "--namespace", k8s.namespace];

export const argv = {
  /** Reachability: the API server's readiness endpoint, failing fast. */
  reachable: (k8s: K8sSettings) => [...contextArgs(k8s), "get", "--raw=/readyz", "--request-timeout=10s"],
  currentContext: () => ["config", "current-context"],
  apply: (k8s: K8sSettings, file: string) => [...contextArgs(k8s), "apply", "--filename", file],
  rolloutStatus: (k8s: K8sSettings, service: ServiceName, timeoutMs: number) => [
    ...inNamespace(k8s),
    "rollout",
    "status",
    `deployment/${service}`,
    `--timeout=${seconds(timeoutMs)}`,
  ],
  rolloutUndo: (k8s: K8sSettings, service: ServiceName, revision?: number) => [
    ...inNamespace(k8s),
    "rollout",
    "undo",
    `deployment/${service}`,
    ...(revision !== undefined ? [`--to-revision=${revision}`] : []),
  ],
  rolloutHistory: (k8s: K8sSettings, service: ServiceName) => [
    ...inNamespace(k8s),
    "rollout",
    "history",
    `deployment/${service}`,
  ],
  getDeployments: (k8s: K8sSettings) => [
    ...inNamespace(k8s),
    "get",
    "deployment",
    ...SERVICES,
    "--ignore-not-found",
    "--output=json",
  ],
  deleteDeployment: (k8s: K8sSettings, service: ServiceName) => [
    ...inNamespace(k8s),
    "delete",
    `deployment/${service}`,
    "--ignore-not-found",
    "--wait=true",
  ],
  /** Every object the manifests and charts render, by the label they all carry; the namespace stays. */
  deleteAll: (k8s: K8sSettings) => [
    ...inNamespace(k8s),
    "delete",
    "deployment,service,configmap,networkpolicy,horizontalpodautoscaler,poddisruptionbudget,serviceaccount,ingress",
    "--selector=app.kubernetes.io/part-of=timekit",
    "--ignore-not-found",
    "--wait=true",
  ],
  /** The pods of one service (the Deployments' and the charts' selector). */
  pods: (k8s: K8sSettings, service: ServiceName) => [
    ...inNamespace(k8s),
    "get",
    "pods",
    `--selector=app.kubernetes.io/name=${service}`,
    "--output=json",
  ],
  /** The service binary's own probe of its real route, inside one pod (the images have no shell). */
  execProbe: (k8s: K8sSettings, pod: string, service: ServiceName) => [
    ...inNamespace(k8s),
    "exec",
    pod,
    "--container",
    service,
    "--",
    ...probeCommand(service),
  ],
  portForward: (k8s: K8sSettings) => [
    ...inNamespace(k8s),
    "port-forward",
    "service/service2",
    "--address=127.0.0.1",
    ":8080",
  ],
  helmUpgrade: (k8s: K8sSettings, release: HelmRelease, valuesFile: string, timeoutMs: number) => [
    "upgrade",
    release.release,
    release.chart,
    "--install",
    ...helmIn(k8s),
    "--values",
    valuesFile,
    "--wait",
    `--timeout=${seconds(timeoutMs)}`,
  ],
  helmTest: (k8s: K8sSettings, release: ServiceName, timeoutMs: number) => [
    "test",
    release,
    ...helmIn(k8s),
    "--logs",
    `--timeout=${seconds(timeoutMs)}`,
  ],
  helmRollback: (k8s: K8sSettings, release: ServiceName, revision: number, timeoutMs: number) => [
    "rollback",
    release,
    String(revision),
    ...helmIn(k8s),
    "--wait",
    `--timeout=${seconds(timeoutMs)}`,
  ],
  helmUninstall: (k8s: K8sSettings, release: ServiceName) => ["uninstall", release, ...helmIn(k8s), "--wait"],
  helmHistory: (k8s: K8sSettings, release: ServiceName) => ["history", release, ...helmIn(k8s), "--output=json"],
} as const;

/** Which local cluster the images go into: the flag, or (auto) the context's name. */
export function loaderFor(
  loadImages: ImageLoader,
  context: string | null,
): { tool: "kind"; cluster: string } | { tool: "minikube"; profile: string } | null {
  const ctx = context ?? "";
  if (loadImages === "none") return null;
  if (loadImages === "kind" || (loadImages === "auto" && ctx.startsWith("kind-"))) {
    return { tool: "kind", cluster: ctx.startsWith("kind-") ? ctx.slice("kind-".length) : "kind" };
  }
  if (loadImages === "minikube" || (loadImages === "auto" && ctx === "minikube")) {
    // minikube names the context after the profile.
    return { tool: "minikube", profile: ctx || "minikube" };
  }
  return null;
}

/** The command that copies local images into a kind or minikube cluster. */
export function loadImagesArgv(loader: NonNullable<ReturnType<typeof loaderFor>>, images: string[]): string[] {
  return loader.tool === "kind"
    ? ["kind", "load", "docker-image", "--name", loader.cluster, ...images]
    : ["minikube", "image", "load", "--profile", loader.profile, ...images];
}

/** A history directory per target, context and namespace, under the project's state dir. */
export function k8sStateDir(stateDir: string, target: K8sTargetKind, k8s: Pick<K8sSettings, "context" | "namespace">) {
  const ctx = (k8s.context ?? "current-context").replace(/[^A-Za-z0-9._-]/g, "_");
  return join(stateDir, `${target}_${ctx}_${k8s.namespace}`);
}

interface PodJson {
  metadata?: { name?: string; deletionTimestamp?: string };
  status?: { phase?: string; containerStatuses?: { ready?: boolean }[] };
}

/** Names of the pods in `kubectl get pods -o json` that run, are ready and are not terminating. */
export function servingPods(json: string): string[] {
  if (json.trim() === "") return [];
  const parsed = JSON.parse(json) as { items?: PodJson[] };
  return (parsed.items ?? [])
    .filter(
      (p) =>
        p.metadata?.name &&
        !p.metadata.deletionTimestamp &&
        p.status?.phase === "Running" &&
        (p.status.containerStatuses ?? []).length > 0 &&
        (p.status.containerStatuses ?? []).every((c) => c.ready === true),
    )
    .map((p) => p.metadata?.name as string);
}
