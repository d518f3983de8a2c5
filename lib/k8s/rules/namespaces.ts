/** Namespaces: Pod Security admission, and one namespace for the whole set. */
import { ofKind } from "../objects";
import type { Context, Report } from "./context";

const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass", "StorageClass"]);

/* -------------------------------------------------------------- namespaces */

export function checkNamespaces(context: Context, report: Report): void {
  for (const object of ofKind(context.objects, "Namespace")) {
    if (object.metadata.labels?.["pod-security.kubernetes.io/enforce"] !== "restricted") {
      report("namespace.pod-security", object, "label pod-security.kubernetes.io/enforce must be restricted");
    }
  }
  const namespaced = context.objects.filter((object) => !CLUSTER_SCOPED.has(object.kind));
  const names = new Set(namespaced.map((object) => object.metadata.namespace));
  if (names.size > 1 || names.has(undefined)) {
    for (const object of namespaced) {
      if (!object.metadata.namespace) report("namespace.consistent", object, "metadata.namespace is not set");
    }
    if (names.size > 1 && !names.has(undefined)) {
      const [first] = namespaced;
      if (first) report("namespace.consistent", first, `objects span namespaces ${[...names].join(", ")}`);
    }
  }
}

/** Every violation in the rendered set; an empty list means it passes. */
