/** The plan as a Kubernetes render input; light enough for the command layer to check it before anything runs. */
import type { K8sSettings, Plan } from "../deploy/plan";
import { type RenderInput, splitImageRef } from "../k8s/input";
import { perService } from "../services";

/** The render input for a plan: images (tag from the version, or the pinned digest), replicas, settings. */
export function renderInputFor(plan: Plan, k8s: K8sSettings): RenderInput {
  const services = perService((name) => {
    const s = plan.services[name];
    const ref = splitImageRef(s.image);
    return {
      image: ref.image,
      tag: ref.tag ?? s.version,
      ...(ref.digest ? { digest: ref.digest } : {}),
      replicas: s.replicas,
      env: s.env,
    };
  });
  return { namespace: k8s.namespace, overlay: k8s.overlay, services };
}
