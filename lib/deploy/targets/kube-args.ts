/**
 * Flags of the Kubernetes targets (`--target=k8s|helm`), spread into `up`, `status`, `history`
 * and `rollback` by ../args.ts, and their validation (no external command runs). Kept free of
 * imports with side effects, like ../args.ts: the Compose path loads this too.
 */
import type { ArgsDef } from "citty";
import { UsageErrors } from "../errors";

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
    valueHint: "target",
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
    valueHint: "overlay",
  },
  load_images: {
    type: "string",
    description:
      "k8s/helm: copy the images from the local Docker engine into the cluster: kind, minikube, none, or auto (from the context name: kind-* or minikube; the default)",
    valueHint: "mode",
  },
} as const satisfies ArgsDef;

export type Overlay = (typeof OVERLAY_CHOICES)[number];

/** Where and how a Kubernetes target deploys; part of the plan (`plan.kube`). */
export interface KubeSettings {
  namespace: string;
  /** kubeconfig context; null: kubectl's and helm's current context. */
  context: string | null;
  overlay: Overlay;
  loadImages: LoadImages;
}

export const DEFAULT_NAMESPACE = "timekit";
/** RFC 1123 label: what Kubernetes accepts as a namespace name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function str(args: Record<string, unknown>, name: string): string | undefined {
  const value = args[name];
  return value === undefined || value === null ? undefined : String(value);
}

function choice<C extends string>(
  flag: string,
  raw: string | undefined,
  choices: readonly C[],
  problems: string[],
): C | undefined {
  if (raw === undefined) return undefined;
  if ((choices as readonly string[]).includes(raw)) return raw as C;
  problems.push(`--${flag}=${JSON.stringify(raw)} is not allowed; use one of ${choices.join(", ")}`);
  return undefined;
}

/**
 * Reads `--target` (env TIMEKIT_TARGET) and, for k8s/helm, the Kubernetes flags. Problems go into
 * `problems` (the caller throws them all at once, exit 2); runs no external command.
 */
export function targetFrom(
  args: Record<string, unknown>,
  env: Record<string, string | undefined>,
  problems: string[],
): { target: Target; kube?: KubeSettings } {
  const target = choice("target", str(args, "target") ?? (env.TIMEKIT_TARGET || undefined), TARGETS, problems);
  const kubeFlags = ["namespace", "context", "overlay", "load_images"].filter((f) => str(args, f) !== undefined);
  if (target === undefined || target === "compose") {
    for (const flag of kubeFlags) {
      problems.push(`--${flag} applies to --target=k8s or --target=helm, not to the Compose target`);
    }
    return { target: "compose" };
  }
  if (str(args, "port") !== undefined) {
    problems.push(
      `--port is the Compose target's published port; with --target=${target} the health gate reaches service2 through the cluster, so drop --port`,
    );
  }
  const namespace = str(args, "namespace") ?? DEFAULT_NAMESPACE;
  if (!DNS_LABEL.test(namespace)) {
    problems.push(
      `--namespace=${JSON.stringify(namespace)} is not allowed; use an RFC 1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters`,
    );
  }
  const context = str(args, "context");
  if (context !== undefined && (context === "" || context.length > 253 || /[\s\p{Cc}]/u.test(context))) {
    problems.push(
      `--context=${JSON.stringify(context)} is not allowed; name a kubeconfig context (see \`kubectl config get-contexts\`)`,
    );
  }
  const overlay = choice("overlay", str(args, "overlay"), OVERLAY_CHOICES, problems) ?? "base";
  const loadImages = choice("load_images", str(args, "load_images"), LOAD_IMAGES_CHOICES, problems) ?? "auto";
  return { target, kube: { namespace, context: context ?? null, overlay, loadImages } };
}

/**
 * For status, history and rollback: the Kubernetes target the flags name, or null for Compose.
 * Throws a UsageError (exit 2) listing every bad flag.
 */
export function kubeFlags(args: Record<string, unknown>): { target: KubeTarget; kube: KubeSettings } | null {
  const problems: string[] = [];
  const { target, kube } = targetFrom(args, Bun.env, problems);
  if (problems.length > 0) throw new UsageErrors(problems);
  return target === "compose" || !kube ? null : { target, kube };
}
