/**
 * `up` as the command runs it: settings not given keep what runs (lib/deploy/reuse.ts), the diff
 * from what runs is shown first, `--dry-run` stops there, and an empty diff whose stack runs as
 * recorded ends the command at once. Everything else goes through `up` (./up.ts).
 */
import { perService, SERVICES } from "../../services";
import type { Target, TargetContext } from "../../targets/target";
import type { LastGood } from "../history";
import type { Plan, ServiceState, ServiceStatus } from "../plan";
import { describeDiff, diffPlan, type Given, reuseRunning } from "../reuse";
import { type LockOptions, sayNothingToChange, stateFiles, up } from "./up";

export interface ApplyRequest {
  /** Every field filled: given values, else defaults. */
  plan: Plan;
  given: Given;
  /** Defaults for everything not given, whatever runs. */
  reset: boolean;
  dryRun: boolean;
  json: boolean;
  lock: LockOptions;
  /** The deploy file the request came from (recorded in history). */
  file?: string | undefined;
  /** Checks the final plan as the target will render it; throws a UsageError (exit 2). */
  check?: (plan: Plan) => void;
}

export async function apply(target: Target, ctx: TargetContext, request: ApplyRequest): Promise<void> {
  const previous = await stateFiles(target, ctx).history.lastGood();
  const plan = request.reset ? request.plan : reuseRunning(request.plan, request.given, previous);
  request.check?.(plan);
  const diff = diffPlan(previous, plan);
  if (request.dryRun) {
    const shown = await target.dryRun(plan, describeDiff(diff));
    ctx.io.stdout(
      request.json ? `${JSON.stringify({ dryRun: true, diff, plan, ...shown.json }, null, 2)}\n` : `${shown.text}\n`,
    );
    return;
  }
  for (const line of describeDiff(diff).split("\n")) ctx.progress.note(line);
  if (diff.empty && (await nothingToChange(target, ctx, previous))) return;
  await up(target, ctx, { plan, action: "up", lock: request.lock, ...(request.file ? { file: request.file } : {}) });
}

/**
 * A deploy whose diff is empty: one engine (or cluster) query confirms that what the history
 * names runs, healthy, with nothing a killed deploy left. Then it says so on stdout and the
 * command ends (true) without the lock, a build or a history row. Otherwise (false) it says what
 * differs and the deploy goes ahead to put it right.
 */
export async function nothingToChange(target: Target, ctx: TargetContext, previous: LastGood): Promise<boolean> {
  const { journal } = stateFiles(target, ctx);
  if (journal.read() !== null) return false;
  const report = await target.status(previous);
  const differs = SERVICES.flatMap((service) => {
    const recorded = previous.states[service];
    const now = report.services[service];
    if (!recorded) return [`${service} has no record`];
    if (now.health !== "healthy") return [`${service} is ${now.health}`];
    if (now.image !== recorded.image || now.replicas !== recorded.replicas) {
      return [
        `${service} runs ${now.replicas} x ${now.image ?? "nothing"}, recorded ${recorded.replicas} x ${recorded.image}`,
      ];
    }
    return [];
  });
  differs.push(...edgeDiffers(previous, report.edge as ServiceStatus | null | undefined));
  if (differs.length > 0) {
    ctx.progress.note(`what runs differs from the record (${differs.join("; ")}); deploying to put it right`);
    return false;
  }
  const running = perService((service) => previous.states[service] as ServiceState);
  await sayNothingToChange(target, ctx, running);
  return true;
}

/** The edge in front of service2 as recorded against what runs (Compose; other targets have none). */
function edgeDiffers(previous: LastGood, edge: ServiceStatus | null | undefined): string[] {
  const recorded = previous.states.service2?.edge;
  if (!recorded) return edge ? ["an edge runs that the record leaves out"] : [];
  if (!edge) return ["the recorded edge does not run"];
  if (edge.health !== "healthy") return [`the edge is ${edge.health}`];
  if (edge.image !== recorded.image) return [`the edge runs ${edge.image ?? "nothing"}, recorded ${recorded.image}`];
  return [];
}
