/**
 * `rollback` over any target: services go back to an earlier good state from history and are
 * deployed again through `up`'s path. `to` picks the newest good state running that version;
 * `known-good` pulls the image last promoted in a registry (by digest) and keeps the service's
 * current settings; the default is the newest good state that differs from the current one.
 * With no history of ours, a target with revisions of its own (Kubernetes) undoes to its previous one.
 */
import { DeployError, ExitCode } from "../../errors";
import { KNOWN_GOOD, knownGoodRef, LOCAL_REPOSITORY } from "../../images/registry";
import { DEFAULT_PORT } from "../../limits";
import { perService, type ServiceName } from "../../services";
import type { Target, TargetContext } from "../../targets/target";
import { type HistoryEntry, stateFromEntry } from "../history";
import { withLock } from "../lock";
import type { ImageSource, K8sSettings, Plan, ServiceState } from "../plan";
import { serviceChanged } from "../plan";
import { describeDiff, diffPlan } from "../reuse";
import { type LockOptions, lockName, repairLeftovers, stateFiles, up } from "./up";

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

/** The newest good state of `service` that differs from `current`, newest first from `entries`. */
function earlier(entries: HistoryEntry[], service: ServiceName, current: ServiceState): ServiceState | null {
  const found = entries.find((entry) => {
    const s = stateFromEntry(entry, service);
    return s.replicas > 0 && serviceChanged(current, s);
  });
  return found ? stateFromEntry(found, service) : null;
}

export async function rollback(target: Target, ctx: TargetContext, request: RollbackRequest): Promise<void> {
  const { state, history } = stateFiles(target, ctx);
  // What a killed deploy left is repaired first: where to go back to depends on what runs.
  await withLock(
    state,
    lockName("rollback", target),
    { ...request.lock, note: (line) => ctx.progress.note(line) },
    () => repairLeftovers(target, ctx, request.timeoutMs),
  );
  const entries = await history.good();
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
  // Plain `rollback`: only what the last deploy changed goes back, to what ran just before it.
  const services = request.named || to ? request.services : request.services.filter((s) => current.changed.includes(s));
  if (services.length === 0) {
    throw new DeployError(
      `nothing to roll back: the last deploy of project ${ctx.project} (${current.time}) changed no service`,
      ExitCode.failed,
      "name one with --service=S (its previous good state) or --to=VERSION",
    );
  }
  for (const service of services) {
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
    const found = to
      ? entries.map((e) => stateFromEntry(e, service)).find((s) => s.replicas > 0 && s.version === to.version)
      : earlier(request.named ? entries : entries.slice(1), service, next[service]);
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
    next[service] = found;
  }
  const plan: Plan = {
    target: target.kind,
    ...(request.k8s ? { k8s: request.k8s } : {}),
    project: ctx.project,
    port: current.port ?? DEFAULT_PORT,
    gate: { timeoutMs: request.timeoutMs },
    services: perService((service) => ({
      ...next[service],
      name: service,
      source: sources[service],
      repository: LOCAL_REPOSITORY,
    })),
  };
  // The diff before every change, a rollback's too.
  for (const line of describeDiff(diffPlan(await history.lastGood(), plan)).split("\n")) ctx.progress.note(line);
  await up(target, ctx, { plan, action: "rollback", lock: request.lock });
}
