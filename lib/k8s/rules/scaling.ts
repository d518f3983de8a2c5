/** PodDisruptionBudgets and HorizontalPodAutoscalers against the workloads they govern. */
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1";
import { selectorMatches } from "../netpol";
import { objectId, ofKind } from "../objects";
import { type Context, minimumReplicas, namespaceOf, type Report } from "./context";

const SCALABLE = new Set(["Deployment", "StatefulSet", "ReplicaSet"]);

/* ------------------------------------------------------ disruption, scaling */

export function checkDisruptionBudgets(context: Context, report: Report): void {
  for (const object of ofKind(context.objects, "PodDisruptionBudget")) {
    const spec = (object as unknown as IPodDisruptionBudget).spec ?? {};
    const selected = context.workloads.filter(
      (t) => namespaceOf(t.owner) === namespaceOf(object) && selectorMatches(spec.selector, t.labels),
    );
    const [workload] = selected;
    if (selected.length !== 1 || !workload) {
      report("pdb.selector", object, `selects ${selected.length} workloads; expected exactly one`);
      continue;
    }
    const replicas = minimumReplicas(context, workload.owner);
    const { maxUnavailable, minAvailable } = spec;
    const percent = (value: string) => Number(value.replace("%", ""));
    if (maxUnavailable !== undefined) {
      if (typeof maxUnavailable === "number" ? maxUnavailable < 1 : percent(maxUnavailable) <= 0) {
        report("pdb.blocking", object, `maxUnavailable ${maxUnavailable} allows no eviction`);
      }
    } else if (minAvailable !== undefined) {
      if (typeof minAvailable === "number" ? minAvailable >= replicas : percent(minAvailable) >= 100) {
        report("pdb.blocking", object, `minAvailable ${minAvailable} with ${replicas} replica(s) allows no eviction`);
      }
    }
  }
}

export function checkAutoscalers(context: Context, report: Report): void {
  for (const object of ofKind(context.objects, "HorizontalPodAutoscaler")) {
    const spec = (object as unknown as IHorizontalPodAutoscaler).spec;
    const ref = spec?.scaleTargetRef;
    const target = context.workloads.find(
      (t) =>
        t.owner.kind === ref?.kind &&
        t.owner.metadata.name === ref.name &&
        namespaceOf(t.owner) === namespaceOf(object) &&
        SCALABLE.has(t.owner.kind),
    );
    const min = spec?.minReplicas ?? 1;
    const max = spec?.maxReplicas ?? 0;
    if (min < 1 || min > max) report("hpa.range", object, `minReplicas ${min} and maxReplicas ${max} are out of order`);
    if (!target) {
      report("hpa.target", object, `scaleTargetRef ${ref?.kind}/${ref?.name} is not a rendered scalable workload`);
      continue;
    }
    if ((target.owner as unknown as IDeployment).spec?.replicas !== undefined) {
      report("hpa.replicas", target.owner, `sets spec.replicas although ${objectId(object)} scales it`);
    }
  }
}
