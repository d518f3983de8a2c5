/** `up`'s flags for the edge in front of service2 (Compose) and service2's replica count. */
import type { ArgsDef } from "citty";
import type { Plan } from "../deploy/plan";
import type { Given } from "../deploy/reuse";
import { MAX_REPLICAS } from "../limits";
import { integer, type Problems } from "./values";

export const edgeArgs = {
  replicas_service2: {
    type: "string",
    description: `Number of service2 replicas behind the edge, 1-${MAX_REPLICAS} (unset: what runs; 1 on a first deploy)`,
    valueHint: "n",
  },
  publish_service2_directly: {
    type: "boolean",
    description:
      "Compose: no edge proxy; service2 publishes the port itself (one replica; upgrades stop then start it). Unset: as it runs (the edge on a first deploy); --no-publish_service2_directly puts the edge back",
  },
} as const satisfies ArgsDef;

/** service2's replica count: more than one needs the edge, which only the Compose target can leave out. */
export function service2ReplicasFrom(
  values: { replicas_service2?: string | undefined; publish_service2_directly?: boolean | undefined },
  target: string,
  problems: Problems,
): number {
  const direct = values.publish_service2_directly === true;
  const n =
    integer(
      "replicas_service2",
      values.replicas_service2,
      { min: 1, max: MAX_REPLICAS },
      `it is the service2 replica count, a whole number from 1 to ${MAX_REPLICAS}`,
      problems,
    ) ?? 1;
  if (direct && n > 1) {
    problems.push(
      `--replicas_service2=${n} needs the edge: with --publish_service2_directly one service2 container owns the port; drop one of the two`,
    );
  }
  if (direct && target !== "compose") {
    problems.push(
      `--publish_service2_directly applies to --target=compose only; with --target=${target} the Service (and optional Ingress) is the entry point`,
    );
  }
  return n;
}

/**
 * After unspecified settings took what runs: more than one service2 replica without the edge,
 * when one of the two came from what runs and the other from a flag.
 */
export function edgeReuseProblems(plan: Plan, given: Pick<Given, "edge" | "replicasService2">): string[] {
  const service2 = plan.services.service2;
  if (plan.target !== "compose" || service2.edge || service2.replicas <= 1) return [];
  if (given.replicasService2 && !given.edge) {
    return [
      `--replicas_service2=${service2.replicas} needs the edge, and service2 runs published directly now; add --no-publish_service2_directly to put the edge in front of it again`,
    ];
  }
  return [
    `--publish_service2_directly leaves one service2 container owning the port, and service2 runs ${service2.replicas} replicas now; add --replicas_service2=1`,
  ];
}
