/** `up`'s flags for the edge in front of service2 (Compose) and service2's replica count. */
import type { ArgsDef } from "citty";
import { MAX_REPLICAS } from "../limits";
import { integer, type Problems } from "./values";

export const edgeArgs = {
  replicas_service2: {
    type: "string",
    description: `Number of service2 replicas behind the edge, 1-${MAX_REPLICAS} (default 1)`,
    valueHint: "n",
  },
  publish_service2_directly: {
    type: "boolean",
    description:
      "Compose: no edge proxy; service2 publishes the port itself (one replica; upgrades stop then start it)",
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
