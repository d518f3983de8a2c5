/** `down` over any target: remove what runs, under the deploy lock; history is kept. */

import { DEFAULT_PORT } from "../../limits";
import { SERVICES } from "../../services";
import type { Target, TargetContext } from "../../targets/target";
import { entryFromState, type History, type HistoryEntry, type LastGood } from "../history";
import { describeStep } from "../journal";
import { withLock } from "../lock";
import type { ServiceState } from "../plan";
import { StateDir } from "../state-dir";
import { type LockOptions, lockName, stateFiles } from "./up";

/**
 * `down` again: the newest row is a `down` and the target reports no replica of either service.
 * Then there is nothing to remove and nothing to record (a second `down` adds no row).
 */
async function alreadyDown(target: Target, history: History, lastGood: LastGood): Promise<boolean> {
  const [newest] = await history.read();
  if (newest?.action !== "down") return false;
  const report = await target.status(lastGood);
  return SERVICES.every((service) => report.services[service].replicas === 0);
}

export async function down(
  target: Target,
  ctx: TargetContext,
  options: { volumes: boolean; lock: LockOptions; silent?: boolean },
): Promise<void> {
  const started = performance.now();
  const { history, journal } = stateFiles(target, ctx);
  const lock = { ...options.lock, note: (line: string) => ctx.progress.note(line) };
  await withLock(new StateDir(target.stateDir, ctx.stateRoot), lockName("down", target), lock, async () => {
    const lastGood = await history.lastGood();
    const left = journal.read();
    if (left === null && (await alreadyDown(target, history, lastGood))) {
      if (!options.silent) ctx.io.stdout(`nothing was running for project ${ctx.project}; nothing removed\n`);
      return;
    }
    await target.down({ volumes: options.volumes, lastGood });
    const gone: ServiceState = { version: "-", image: "-", digest: null, replicas: 0, env: {} };
    const after = {
      service1: { ...(lastGood.states.service1 ?? gone), replicas: 0 },
      service2: { ...(lastGood.states.service2 ?? gone), replicas: 0 },
    };
    const repaired =
      left && !("unreadable" in left)
        ? `; a killed deploy had left a step half done (${describeStep(left)}): removed with the rest`
        : "";
    await history.append({
      ...entryFromState(
        "down",
        "ok",
        after,
        [...SERVICES],
        lastGood.port ?? DEFAULT_PORT,
        started,
        repaired ? repaired.slice(2) : undefined,
      ),
      ...target.historyFields,
    } as HistoryEntry);
    journal.clear();
    if (!options.silent)
      ctx.io.stdout(`removed project ${ctx.project}; history kept in ${target.stateDir}${repaired}\n`);
  });
}
