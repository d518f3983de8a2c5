/**
 * The driver for a target kind: the one place that knows all three. Drivers load lazily, so a
 * Compose deploy never loads the Kubernetes renderers and checkers (nor they the Compose driver).
 */
import type { K8sSettings, K8sTargetKind } from "../deploy/plan";
import type { ComposeSettings } from "./compose";
import type { Target, TargetContext } from "./target";

export type TargetSettings = { kind: "compose"; compose: ComposeSettings } | { kind: K8sTargetKind; k8s: K8sSettings };

export async function openTarget(settings: TargetSettings, ctx: TargetContext): Promise<Target> {
  switch (settings.kind) {
    case "compose":
      return new (await import("./compose")).ComposeTarget(ctx, settings.compose);
    case "k8s":
      return new (await import("./kubectl")).KubectlTarget(ctx, settings.k8s);
    case "helm":
      return new (await import("./helm")).HelmTarget(ctx, settings.k8s);
  }
}
