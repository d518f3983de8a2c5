/**
 * Renders timekit for Kubernetes from one input (input.ts), two ways: raw manifests through
 * kustomize (a temporary kustomization over an overlay of k8s/) and the two charts through
 * `helm template`. Both return the manifest text (for --dry-run and `kubectl apply`) and the
 * parsed objects. This module is the entry point: it re-exports the input API.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { stringify } from "yaml";
import { runChecked } from "../exec";
import { CHARTS_DIR, K8S_DIR } from "../paths";
import type { ServiceName } from "../services";
import { settingsOf } from "../settings";
import {
  BASE_IMAGES,
  KUBE_VERSION,
  LOCAL_NODE_PORT,
  type Overlay,
  PRESTOP_SLEEP_SECONDS,
  type RenderInput,
  type ResolvedService,
  resolveInput,
} from "./input";
import { type K8sObject, parseManifests } from "./objects";
import { findHelm, findKubectl } from "./tools";

export * from "./input";

export interface Rendered {
  /** Multi-document YAML, ready for `kubectl apply -f -` or printing. */
  manifest: string;
  objects: K8sObject[];
  /** helm only: one release per service, with its values. */
  releases: HelmRelease[];
}

export type RenderHow = "raw" | "helm";

/* ---------------------------------------------------------------- kustomize */

function overlayDir(overlay: Overlay): string {
  return overlay === "base" ? join(K8S_DIR, "base") : join(K8S_DIR, "overlays", overlay);
}

/** JSON patches guarded by `test` ops, so a changed base fails loudly instead of patching the wrong field. */
function kustomizePatches(service: ResolvedService, ingress: RenderInput["ingress"]): object[] {
  const container = "/spec/template/spec/containers/0";
  const patches: object[] = [
    {
      target: { kind: "HorizontalPodAutoscaler", name: service.name },
      patch: stringify([
        { op: "replace", path: "/spec/minReplicas", value: service.replicas },
        { op: "replace", path: "/spec/maxReplicas", value: service.maxReplicas },
      ]),
    },
    {
      target: { kind: "Deployment", name: service.name },
      patch: stringify([
        { op: "test", path: `${container}/name`, value: service.name },
        { op: "test", path: `${container}/ports/0/name`, value: "http" },
        { op: "replace", path: `${container}/ports/0/containerPort`, value: Number(service.env.PORT) },
        {
          op: "replace",
          path: "/spec/template/spec/terminationGracePeriodSeconds",
          value: service.terminationGracePeriodSeconds,
        },
      ]),
    },
  ];
  if (ingress && service.name === "service2") {
    patches.push({
      target: { kind: "Ingress", name: "service2" },
      patch: stringify([
        { op: "replace", path: "/spec/rules/0/host", value: ingress.host },
        ...(ingress.className ? [{ op: "replace", path: "/spec/ingressClassName", value: ingress.className }] : []),
      ]),
    });
  }
  return patches;
}

/** The temporary kustomization: the overlay plus the input's namespace, images, replicas and settings. */
function kustomization(input: RenderInput, services: readonly ResolvedService[], dir: string): object {
  return {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    namespace: input.namespace,
    resources: [relative(dir, overlayDir(input.overlay))],
    ...(input.ingress ? { components: [relative(dir, join(K8S_DIR, "components", "ingress"))] } : {}),
    images: services.map((service) => ({
      name: BASE_IMAGES[service.name],
      newName: service.image,
      newTag: service.tag,
      ...(service.digest ? { digest: service.digest } : {}),
    })),
    configMapGenerator: services.map((service) => ({
      name: `${service.name}-config`,
      behavior: "replace",
      literals: settingsOf(service.name).map(({ variable }) => `${variable}=${service.env[variable]}`),
    })),
    patches: services.flatMap((service) => kustomizePatches(service, input.ingress)),
  };
}

/** Raw manifests: `kubectl kustomize` over a temporary kustomization that points at the overlay. */
export async function renderKustomize(input: RenderInput): Promise<Rendered> {
  const { services } = resolveInput(input);
  const kubectl = await findKubectl();
  const dir = await mkdtemp(join(tmpdir(), "timekit-kustomize-"));
  try {
    await Bun.write(join(dir, "kustomization.yaml"), stringify(kustomization(input, services, dir)));
    const { stdout: manifest } = await runChecked([kubectl, "kustomize", dir], { timeoutMs: 60_000 });
    return { manifest, objects: parseManifests(manifest, `kustomize ${input.overlay}`), releases: [] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/* --------------------------------------------------------------------- helm */

export interface HelmRelease {
  release: ServiceName;
  chart: string;
  namespace: string;
  values: Record<string, unknown>;
}

/** How each overlay exposes service2, as chart values (the kustomize overlays do the same). */
const OVERLAY_SERVICE: Record<Overlay, Record<string, unknown>> = {
  base: { type: "ClusterIP" },
  kind: { type: "NodePort", nodePort: LOCAL_NODE_PORT },
  minikube: { type: "NodePort", nodePort: LOCAL_NODE_PORT },
  "docker-desktop": { type: "LoadBalancer" },
};

function chartConfig(service: ResolvedService): Record<string, string | number> {
  return Object.fromEntries(
    settingsOf(service.name).map((setting) => {
      const value = service.env[setting.variable] ?? setting.default;
      return [setting.valueKey, setting.type === "integer" ? Number(value) : value];
    }),
  );
}

function chartValues(input: RenderInput, service: ResolvedService): Record<string, unknown> {
  const values: Record<string, unknown> = {
    image: { repository: service.image, tag: service.tag, digest: service.digest ?? "" },
    replicaCount: service.replicas,
    autoscaling: { minReplicas: service.replicas, maxReplicas: service.maxReplicas },
    preStopSleepSeconds: PRESTOP_SLEEP_SECONDS,
    config: chartConfig(service),
  };
  if (service.name === "service2") {
    values.service = OVERLAY_SERVICE[input.overlay];
    if (input.ingress) {
      values.ingress = {
        enabled: true,
        host: input.ingress.host,
        ...(input.ingress.className ? { className: input.ingress.className } : {}),
      };
    }
  }
  return values;
}

/** One release per service, named after it (so service2's default SERVICE1_URL finds service1). */
export function helmReleases(input: RenderInput): HelmRelease[] {
  const { services } = resolveInput(input);
  return services.map((service) => ({
    release: service.name,
    chart: join(CHARTS_DIR, service.name),
    namespace: input.namespace,
    values: chartValues(input, service),
  }));
}

/** `helm template` of one chart with values given as a file. */
export async function helmTemplate(
  release: string,
  chart: string,
  namespace: string,
  values: Record<string, unknown>,
): Promise<string> {
  const helm = await findHelm();
  const dir = await mkdtemp(join(tmpdir(), "timekit-helm-"));
  try {
    const file = join(dir, "values.json");
    await Bun.write(file, JSON.stringify(values));
    const args = ["template", release, chart, "--namespace", namespace, "--kube-version", KUBE_VERSION];
    return (await runChecked([helm, ...args, "--values", file], { timeoutMs: 60_000 })).stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The namespace the charts install into, labelled like k8s/base/namespace.yaml. */
export function namespaceManifest(namespace: string): string {
  const labels = Object.fromEntries(
    ["enforce", "audit", "warn"].map((mode) => [`pod-security.kubernetes.io/${mode}`, "restricted"]),
  );
  return stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels } });
}

/** The restricted namespace, then both charts through `helm template`, test hooks included. */
export async function renderHelm(input: RenderInput): Promise<Rendered> {
  const releases = helmReleases(input);
  const parts = [namespaceManifest(input.namespace)];
  for (const { release, chart, namespace, values } of releases) {
    parts.push(await helmTemplate(release, chart, namespace, values));
  }
  const manifest = parts.map((part) => (part.startsWith("---") ? part : `---\n${part}`)).join("\n");
  return { manifest, objects: parseManifests(manifest, `helm template (${input.overlay})`), releases };
}

/** Raw manifests (kustomize) or the charts (helm) for one input. */
export function render(how: RenderHow, input: RenderInput): Promise<Rendered> {
  return how === "raw" ? renderKustomize(input) : renderHelm(input);
}

/** The input the base manifests and the charts' defaults describe. */
