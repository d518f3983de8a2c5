/**
 * kubectl and helm command lines of the Kubernetes targets, as pure functions (table-tested in
 * tests/targets): they prove the commands' shape, not that a cluster accepts them; the kind
 * workflow runs them for real.
 */
import { join } from "node:path";
import type { ImageLoader, KubeSettings, KubeTargetKind } from "../deploy/plan";
import type { HelmRelease } from "../k8s/render";
import { SERVICES, type ServiceName } from "../services";

/** `--context C` for kubectl (global flag), when a context was named. */
export function contextArgs(kube: Pick<KubeSettings, "context">): string[] {
  return kube.context ? ["--context", kube.context] : [];
}

/** `--kube-context C` for helm. */
export function helmContextArgs(kube: Pick<KubeSettings, "context">): string[] {
  return kube.context ? ["--kube-context", kube.context] : [];
}

const seconds = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))}s`;

/** kubectl's global flags for a command in the namespace. */
const inNamespace = (kube: KubeSettings) => [...contextArgs(kube), "--namespace", kube.namespace];

/** helm's release-level flags. */
const helmIn = (kube: KubeSettings) => [...helmContextArgs(kube), "--namespace", kube.namespace];

export const argv = {
  /** Reachability: the API server's readiness endpoint, failing fast. */
  reachable: (kube: KubeSettings) => [...contextArgs(kube), "get", "--raw=/readyz", "--request-timeout=10s"],
  currentContext: () => ["config", "current-context"],
  apply: (kube: KubeSettings, file: string) => [...contextArgs(kube), "apply", "--filename", file],
  rolloutStatus: (kube: KubeSettings, service: ServiceName, timeoutMs: number) => [
    ...inNamespace(kube),
    "rollout",
    "status",
    `deployment/${service}`,
    `--timeout=${seconds(timeoutMs)}`,
  ],
  rolloutUndo: (kube: KubeSettings, service: ServiceName, revision?: number) => [
    ...inNamespace(kube),
    "rollout",
    "undo",
    `deployment/${service}`,
    ...(revision !== undefined ? [`--to-revision=${revision}`] : []),
  ],
  rolloutHistory: (kube: KubeSettings, service: ServiceName) => [
    ...inNamespace(kube),
    "rollout",
    "history",
    `deployment/${service}`,
  ],
  getDeployments: (kube: KubeSettings) => [
    ...inNamespace(kube),
    "get",
    "deployment",
    ...SERVICES,
    "--ignore-not-found",
    "--output=json",
  ],
  deleteDeployment: (kube: KubeSettings, service: ServiceName) => [
    ...inNamespace(kube),
    "delete",
    `deployment/${service}`,
    "--ignore-not-found",
    "--wait=true",
  ],
  /** Every object the manifests and charts render, by the label they all carry; the namespace stays. */
  deleteAll: (kube: KubeSettings) => [
    ...inNamespace(kube),
    "delete",
    "deployment,service,configmap,networkpolicy,horizontalpodautoscaler,poddisruptionbudget,serviceaccount,ingress",
    "--selector=app.kubernetes.io/part-of=timekit",
    "--ignore-not-found",
    "--wait=true",
  ],
  portForward: (kube: KubeSettings) => [
    ...inNamespace(kube),
    "port-forward",
    "service/service2",
    "--address=127.0.0.1",
    ":8080",
  ],
  helmUpgrade: (kube: KubeSettings, release: HelmRelease, valuesFile: string, timeoutMs: number) => [
    "upgrade",
    release.release,
    release.chart,
    "--install",
    ...helmIn(kube),
    "--values",
    valuesFile,
    "--wait",
    `--timeout=${seconds(timeoutMs)}`,
  ],
  helmTest: (kube: KubeSettings, release: ServiceName, timeoutMs: number) => [
    "test",
    release,
    ...helmIn(kube),
    "--logs",
    `--timeout=${seconds(timeoutMs)}`,
  ],
  helmRollback: (kube: KubeSettings, release: ServiceName, revision: number, timeoutMs: number) => [
    "rollback",
    release,
    String(revision),
    ...helmIn(kube),
    "--wait",
    `--timeout=${seconds(timeoutMs)}`,
  ],
  helmUninstall: (kube: KubeSettings, release: ServiceName) => ["uninstall", release, ...helmIn(kube), "--wait"],
  helmHistory: (kube: KubeSettings, release: ServiceName) => ["history", release, ...helmIn(kube), "--output=json"],
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
export function kubeStateDir(
  stateDir: string,
  target: KubeTargetKind,
  kube: Pick<KubeSettings, "context" | "namespace">,
) {
  const ctx = (kube.context ?? "current-context").replace(/[^A-Za-z0-9._-]/g, "_");
  return join(stateDir, `${target}_${ctx}_${kube.namespace}`);
}
