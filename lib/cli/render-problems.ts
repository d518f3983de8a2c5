/** What a Kubernetes render says about a plan's settings, as `up`'s usage problems (exit 2). */
import type { Plan } from "../deploy/plan";
import { RenderInputError, resolveInput } from "../k8s/input";
import type { TargetSettings } from "../targets";
import { renderInputFor } from "../targets/k8s-input";

/** A Kubernetes render checks the settings as the services will (unknown names too): exit 2 here. */
export function renderProblems(plan: Plan, target: TargetSettings): string[] {
  if (target.kind === "compose") return [];
  try {
    resolveInput(renderInputFor(plan, target.k8s));
    return [];
  } catch (error) {
    if (!(error instanceof RenderInputError)) throw error;
    return error.problems.map((p) =>
      p.replace(/^services\.(service[12])\.env: /, "settings of $1 (--env_file_$1 or a setting flag): "),
    );
  }
}
