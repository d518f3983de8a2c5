/** `down` over any target: remove what runs, under the deploy lock; history is kept. */

import { DEFAULT_PORT } from "../../limits";
import { SERVICES } from "../../services";
import type { Target, TargetContext } from "../../targets/target";
import { entryFromState, type HistoryEntry } from "../history";
import { describeStep } from "../journal";
import { withLock } from "../lock";
import type { ServiceState } from "../plan";
import { StateDir } from "../state-dir";
import { type LockOptions, lockName, stateFiles } from "./up";

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
