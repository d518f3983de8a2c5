/**
 * Flags of the Kubernetes targets (`--target=k8s|helm`), spread into `up`, `status`, `history`
 * and `rollback` by ../args.ts. Kept free of imports with side effects, like ../args.ts.
 */
import type { ArgsDef } from "citty";

export const TARGETS = ["compose", "k8s", "helm"] as const;
export type Target = (typeof TARGETS)[number];
export type KubeTarget = Exclude<Target, "compose">;

export const OVERLAY_CHOICES = ["base", "kind", "minikube", "docker-desktop"] as const;
export const LOAD_IMAGES_CHOICES = ["auto", "kind", "minikube", "none"] as const;
export type LoadImages = (typeof LOAD_IMAGES_CHOICES)[number];

export const targetArgs = {
  target: {
    type: "string",
    description: "Where to deploy: compose (default), k8s (raw manifests via kustomize) or helm (env TIMEKIT_TARGET)",
    valueHint: TARGETS.join("|"),
  },
  namespace: {
    type: "string",
    description: "k8s/helm: Kubernetes namespace, a DNS label (default timekit)",
    valueHint: "name",
  },
  context: {
    type: "string",
    description: "k8s/helm: kubeconfig context for kubectl and helm (default: the current context)",
    valueHint: "context",
  },
} as const satisfies ArgsDef;

/** Only `up` renders: the overlay and image loading. */
export const kubeUpArgs = {
  overlay: {
    type: "string",
    description: "k8s/helm: cluster flavour, sets how service2 is exposed (base, kind, minikube, docker-desktop)",
    valueHint: OVERLAY_CHOICES.join("|"),
  },
  load_images: {
    type: "string",
    description:
      "k8s/helm: copy the images from the local Docker engine into the cluster: kind, minikube, none, or auto (from the context name: kind-* or minikube; the default)",
    valueHint: LOAD_IMAGES_CHOICES.join("|"),
  },
} as const satisfies ArgsDef;
