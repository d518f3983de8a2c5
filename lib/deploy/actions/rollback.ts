/**
 * `rollback` over any target: services go back to an earlier good state from history and are
 * deployed again through `up`'s path. `to` picks the newest good state running that version;
 * `known-good` pulls the image last promoted in a registry (by digest) and keeps the service's
 * current settings; the default is the newest good state that differs from the current one.
 * With no history of ours, a target with revisions of its own (Kubernetes) undoes to its previous one.
 */
import { DeployError, ExitCode } from "../../errors";
import { KNOWN_GOOD, knownGoodRef } from "../../images/registry";
import { DEFAULT_PORT } from "../../limits";
import { perService, type ServiceName } from "../../services";
import type { Target, TargetContext } from "../../targets/target";
import { History, stateFromEntry } from "../history";
import type { ImageSource, K8sSettings, Plan, ServiceState } from "../plan";
import { serviceChanged } from "../plan";
import { type LockOptions, up } from "./up";

export type RollbackTo = { kind: "version"; version: string } | { kind: "known-good"; registry: string };

export interface RollbackRequest {
  services: readonly ServiceName[];
  /** The user named the services (then one without an earlier state is an error, not skipped). */
  named: boolean;
  to?: RollbackTo | undefined;
  timeoutMs: number;
  lock: LockOptions;
  k8s?: K8sSettings | undefined;
}

export async function rollback(target: Target, ctx: TargetContext, request: RollbackRequest): Promise<void> {
  const entries = await new History(target.stateDir).good();
  const current = entries[0];
  if (!current) {
    if (request.to === undefined && target.undo) {
      ctx.progress.note("no deploy recorded by this CLI; using the platform's own previous revision");
      await target.undo(request.services, request.timeoutMs);
      ctx.io.stdout(`rolled back ${request.services.join(", ")} to the previous revision (${target.kind})\n`);
      return;
    }
    throw new DeployError(
      `nothing to roll back: no successful deploy of project ${ctx.project} in history (${target.stateDir})`,
      ExitCode.failed,
    );
  }
  const next: Record<ServiceName, ServiceState> = perService((service) => stateFromEntry(current, service));
  const sources: Record<ServiceName, ImageSource> = perService(() => ({ kind: "pinned" }));
  const to = request.to;
  for (const service of request.services) {
    if (to?.kind === "known-good") {
      // The promoted image, pulled by its known-good tag and pinned by digest; settings stay.
      next[service] = {
        ...next[service],
        version: KNOWN_GOOD,
        image: knownGoodRef(to.registry, service),
        digest: null,
      };
      sources[service] = { kind: "registry", registry: to.registry };
      continue;
    }
    const found = entries.find((entry) => {
      const s = stateFromEntry(entry, service);
      return s.replicas > 0 && (to ? s.version === to.version : serviceChanged(next[service], s));
    });
    if (!found) {
      if (request.named || to) {
        throw new DeployError(
          to
            ? `${service} never ran version ${to.version} successfully (history in ${target.stateDir})`
            : `${service} has no earlier good state to go back to`,
          ExitCode.failed,
          "see `bun deploy.ts history` for what ran",
        );
      }
      continue;
    }
    next[service] = stateFromEntry(found, service);
  }
  const plan: Plan = {
    target: target.kind,
    ...(request.k8s ? { k8s: request.k8s } : {}),
    project: ctx.project,
    port: current.port ?? DEFAULT_PORT,
    gate: { timeoutMs: request.timeoutMs },
    services: perService((service) => ({ ...next[service], name: service, source: sources[service] })),
  };
  await up(target, ctx, { plan, action: "rollback", lock: request.lock });
}
