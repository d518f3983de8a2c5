/**
 * What the Kubernetes targets (`--target=k8s`, `--target=helm`) share: their flags' validation,
 * the plan → render input mapping, render + schema + policy check (before anything is applied),
 * the command lines they run (pure functions, table-tested), the "is a cluster reachable" check
 * and the end-to-end request through `kubectl port-forward`.
 */
import { join } from "node:path";
import { stringify } from "yaml";
import { findHelm } from "../../k8s/helm";
import { findKubectl } from "../../k8s/kubectl";
import type { K8sObject } from "../../k8s/objects";
import { parseManifests } from "../../k8s/objects";
import { checkPolicy, formatViolations } from "../../k8s/policy";
import {
  type HelmRelease,
  helmReleases,
  helmTemplate,
  type RenderInput,
  RenderInputError,
  renderKustomize,
  resolveInput,
  splitImageRef,
} from "../../k8s/render";
import { run, ToolError, ToolMissingError } from "../../k8s/tools";
import { formatProblems, validateObjects } from "../../k8s/validate";
import { DeployError, ExitCode, UsageErrors } from "../errors";
import { SERVICES, type ServiceName } from "../params";
import type { Plan } from "../plan";
import { probeThroughService2 } from "../probe";
import type { Progress } from "../progress";
import type { KubeSettings, KubeTarget, LoadImages } from "./kube-args";

export type { KubeSettings } from "./kube-args";

/** The render input for a plan: images (tag from the version, or the pinned digest), replicas, settings. */
export function renderInputFor(plan: Plan, kube: KubeSettings): RenderInput {
  const services = {} as RenderInput["services"];
  for (const name of SERVICES) {
    const s = plan.services[name];
    const ref = splitImageRef(s.image);
    services[name] = {
      image: ref.image,
      tag: ref.tag ?? s.version,
      ...(ref.digest ? { digest: ref.digest } : {}),
      replicas: s.replicas,
      env: s.env,
    };
  }
  return { namespace: kube.namespace, overlay: kube.overlay, services };
}

/** Checks the input with the services' own settings rules: a value they would refuse is exit 2. */
export function checkRenderInput(input: RenderInput): void {
  try {
    resolveInput(input);
  } catch (error) {
    if (error instanceof RenderInputError) {
      throw new UsageErrors(
        error.problems.map((p) =>
          p.replace(/^services\.(service[12])\.env: /, "settings of $1 (--env_file_$1 or a setting flag): "),
        ),
      );
    }
    throw error;
  }
}

/* ------------------------------------------------------------ rendering */

export interface KubeRender {
  /** Everything applied (k8s) or installed (helm, plus the namespace), as printed by --dry-run. */
  manifest: string;
  objects: K8sObject[];
  /** helm only: one release per service, with its values. */
  releases: HelmRelease[];
}

/** The namespace the charts install into, labelled like k8s/base/namespace.yaml. */
export function namespaceManifest(namespace: string): string {
  const labels = Object.fromEntries(
    ["enforce", "audit", "warn"].map((mode) => [`pod-security.kubernetes.io/${mode}`, "restricted"]),
  );
  return stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels } });
}

function toolFailure(error: unknown): unknown {
  if (error instanceof ToolMissingError) {
    return new DeployError(error.message, ExitCode.failed, "install kubectl 1.30+ and helm 3.14+, or set KUBECTL/HELM");
  }
  if (error instanceof ToolError) return new DeployError(error.message, ExitCode.failed);
  return error;
}

/**
 * Renders the plan for the target, then validates every object against the API schemas and runs
 * the policy check. Any finding is exit 1 with the list; nothing has been applied at that point.
 */
export async function renderChecked(target: KubeTarget, input: RenderInput): Promise<KubeRender> {
  let rendered: KubeRender;
  try {
    if (target === "k8s") {
      rendered = { ...(await renderKustomize(input)), releases: [] };
    } else {
      const releases = helmReleases(input);
      const parts = [namespaceManifest(input.namespace)];
      for (const r of releases) parts.push(await helmTemplate(r.release, r.chart, r.namespace, r.values));
      const manifest = parts.map((p) => (p.startsWith("---") ? p : `---\n${p}`)).join("\n");
      rendered = { manifest, objects: parseManifests(manifest, "helm template"), releases };
    }
  } catch (error) {
    throw toolFailure(error);
  }
  const schema = await validateObjects(rendered.objects);
  if (schema.length > 0) {
    throw new DeployError(
      `the rendered ${target} manifests fail schema validation; nothing was applied:\n${formatProblems(schema)}`,
      ExitCode.failed,
    );
  }
  const violations = checkPolicy(rendered.objects);
  if (violations.length > 0) {
    throw new DeployError(
      `the rendered ${target} manifests break the policy; nothing was applied:\n${formatViolations(violations)}`,
      ExitCode.failed,
      "see lib/k8s/policy.ts for the rules; change the settings or the manifests, not the check",
    );
  }
  return rendered;
}

/* ------------------------------------------------------- command lines */

/** `--context C` for kubectl (global flag), when a context was named. */
export function contextArgs(kube: Pick<KubeSettings, "context">): string[] {
  return kube.context ? ["--context", kube.context] : [];
}

/** `--kube-context C` for helm. */
export function helmContextArgs(kube: Pick<KubeSettings, "context">): string[] {
  return kube.context ? ["--kube-context", kube.context] : [];
}

const seconds = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))}s`;

export const argv = {
  /** Reachability: the API server's readiness endpoint, failing fast. */
  reachable: (kube: KubeSettings) => [...contextArgs(kube), "get", "--raw=/readyz", "--request-timeout=10s"],
  currentContext: () => ["config", "current-context"],
  apply: (kube: KubeSettings, file: string) => [...contextArgs(kube), "apply", "--filename", file],
  rolloutStatus: (kube: KubeSettings, service: ServiceName, timeoutMs: number) => [
    ...contextArgs(kube),
    "--namespace",
    kube.namespace,
    "rollout",
    "status",
    `deployment/${service}`,
    `--timeout=${seconds(timeoutMs)}`,
  ],
  rolloutUndo: (kube: KubeSettings, service: ServiceName, revision?: number) => [
    ...contextArgs(kube),
    "--namespace",
    kube.namespace,
    "rollout",
    "undo",
    `deployment/${service}`,
    ...(revision !== undefined ? [`--to-revision=${revision}`] : []),
  ],
  rolloutHistory: (kube: KubeSettings, service: ServiceName) => [
    ...contextArgs(kube),
    "--namespace",
    kube.namespace,
    "rollout",
    "history",
    `deployment/${service}`,
  ],
  getDeployments: (kube: KubeSettings) => [
    ...contextArgs(kube),
    "--namespace",
    kube.namespace,
    "get",
    "deployment",
    ...SERVICES,
    "--ignore-not-found",
    "--output=json",
  ],
  deleteDeployment: (kube: KubeSettings, service: ServiceName) => [
    ...contextArgs(kube),
    "--namespace",
    kube.namespace,
    "delete",
    `deployment/${service}`,
    "--ignore-not-found",
    "--wait=true",
  ],
  portForward: (kube: KubeSettings) => [
    ...contextArgs(kube),
    "--namespace",
    kube.namespace,
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
    ...helmContextArgs(kube),
    "--namespace",
    kube.namespace,
    "--values",
    valuesFile,
    "--wait",
    `--timeout=${seconds(timeoutMs)}`,
  ],
  helmTest: (kube: KubeSettings, release: ServiceName, timeoutMs: number) => [
    "test",
    release,
    ...helmContextArgs(kube),
    "--namespace",
    kube.namespace,
    "--logs",
    `--timeout=${seconds(timeoutMs)}`,
  ],
  helmRollback: (kube: KubeSettings, release: ServiceName, revision: number, timeoutMs: number) => [
    "rollback",
    release,
    String(revision),
    ...helmContextArgs(kube),
    "--namespace",
    kube.namespace,
    "--wait",
    `--timeout=${seconds(timeoutMs)}`,
  ],
  helmUninstall: (kube: KubeSettings, release: ServiceName) => [
    "uninstall",
    release,
    ...helmContextArgs(kube),
    "--namespace",
    kube.namespace,
    "--wait",
  ],
  helmHistory: (kube: KubeSettings, release: ServiceName) => [
    "history",
    release,
    ...helmContextArgs(kube),
    "--namespace",
    kube.namespace,
    "--output=json",
  ],
} as const;

/** Which local cluster the images go into: the flag, or (auto) the context's name. */
export function loaderFor(
  loadImages: LoadImages,
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

/* -------------------------------------------------------------- running */

export interface Tools {
  kubectl: string;
  helm: string | null;
}

export async function findTools(target: KubeTarget): Promise<Tools> {
  try {
    return { kubectl: await findKubectl(), helm: target === "helm" ? await findHelm() : null };
  } catch (error) {
    throw toolFailure(error);
  }
}

/** Runs a tool; a non-zero exit is a DeployError carrying the last lines of its output. */
export async function runTool(command: string[], what: string, timeoutMs = 600_000): Promise<string> {
  const out = await run(command, { timeoutMs });
  if (out.exitCode !== 0) {
    const detail = `${out.stderr}${out.stdout}`.trim().split("\n").slice(-8).join("\n    ");
    throw new DeployError(
      `${what} failed (exit ${out.exitCode ?? "timeout"}):\n    ${detail || "(no output)"}`,
      ExitCode.failed,
    );
  }
  return out.stdout;
}

/**
 * Fails fast (exit 1) when no cluster answers for the context: before images are loaded or
 * anything is applied. The message says which context and how to fix it.
 */
export async function requireCluster(kubectl: string, kube: KubeSettings): Promise<string> {
  let context = kube.context;
  if (!context) {
    const current = await run([kubectl, ...argv.currentContext()], { timeoutMs: 10_000 });
    context = current.exitCode === 0 ? current.stdout.trim() : null;
  }
  const out = await run([kubectl, ...argv.reachable(kube)], { timeoutMs: 20_000 });
  if (out.exitCode !== 0) {
    const detail = (out.stderr || out.stdout).trim().split("\n").pop() ?? "";
    throw new DeployError(
      `no Kubernetes cluster reachable through ${context ? `context "${context}"` : "the current kubeconfig (no current context)"}: ${detail}`,
      ExitCode.failed,
      "start a cluster (kind create cluster, minikube start, Docker Desktop) and pass --context=NAME from `kubectl config get-contexts`, or set KUBECONFIG; --dry-run needs no cluster",
    );
  }
  return context ?? "";
}

/** A history directory per target, context and namespace, under the project's state dir. */
export function kubeStateDir(stateDir: string, target: KubeTarget, kube: Pick<KubeSettings, "context" | "namespace">) {
  const ctx = (kube.context ?? "current-context").replace(/[^A-Za-z0-9._-]/g, "_");
  return join(stateDir, `${target}_${ctx}_${kube.namespace}`);
}

/**
 * The end-to-end gate: `kubectl port-forward service/service2` on a free loopback port, then
 * GET /v1/format until it answers 200 with an epochMs (service2 had to reach service1 through the
 * cluster's Service and NetworkPolicy). Throws a DeployError with the last answer on timeout.
 */
export async function requestThroughService2(kubectl: string, kube: KubeSettings, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < deadline) {
    const child = Bun.spawn([kubectl, ...argv.portForward(kube)], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    try {
      const port = await forwardedPort(child, Math.min(15_000, Math.max(1000, deadline - performance.now())));
      if (port === null) {
        last = `kubectl port-forward did not start: ${(await new Response(child.stderr).text().catch(() => "")).trim()}`;
      } else {
        while (performance.now() < deadline) {
          const probe = await probeThroughService2(`http://127.0.0.1:${port}`);
          if (probe.ok) return;
          last = probe.detail;
          if (child.exitCode !== null) break; // the forward died (pod replaced): start a new one
          await Bun.sleep(500);
        }
      }
    } finally {
      child.kill();
    }
    await Bun.sleep(500);
  }
  throw new DeployError(
    `no request through service2 reached service1 within ${Math.round(timeoutMs / 1000)}s (last: ${last})`,
    ExitCode.failed,
  );
}

/** Reads `Forwarding from 127.0.0.1:PORT -> 8080` from port-forward's stdout. */
async function forwardedPort(child: Bun.Subprocess<"ignore", "pipe", "pipe">, timeoutMs: number) {
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const timer = setTimeout(() => reader.cancel().catch(() => {}), timeoutMs);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return null;
      text += decoder.decode(value);
      const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        // Keep draining ("Handling connection ..." lines) so a full pipe never stalls the forward.
        void (async () => {
          while (!(await reader.read().catch(() => ({ done: true }))).done) {}
        })();
        return Number(match[1]);
      }
    }
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** `kubectl rollout status` of both Deployments, one progress step each: the first half of either target's gate. */
export async function waitForRollouts(
  progress: Progress,
  kubectl: string,
  kube: KubeSettings,
  timeoutMs: number,
): Promise<void> {
  for (const service of SERVICES) {
    await progress.step(`${service}: kubectl rollout status`, () =>
      runTool([kubectl, ...argv.rolloutStatus(kube, service, timeoutMs)], `rollout of ${service}`),
    );
  }
}
