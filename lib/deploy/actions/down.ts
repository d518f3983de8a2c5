/** `down` over any target: remove what runs, under the deploy lock; history is kept. */

import { DEFAULT_PORT } from "../../limits";
import { SERVICES } from "../../services";
import type { Target, TargetContext } from "../../targets/target";
import { entryFromState, History, type HistoryEntry } from "../history";
import { withLock } from "../lock";
import type { ServiceState } from "../plan";
import { type LockOptions, lockName } from "./up";

export async function down(
  target: Target,
  ctx: TargetContext,
  options: { volumes: boolean; lock: LockOptions; silent?: boolean },
): Promise<void> {
  const started = performance.now();
  const history = new History(target.stateDir);
  const lock = { ...options.lock, note: (line: string) => ctx.progress.note(line) };
  await withLock(target.stateDir, lockName("down", target), lock, async () => {
    const lastGood = await history.lastGood();
    await target.down({ volumes: options.volumes, lastGood });
    const gone: ServiceState = { version: "-", image: "-", digest: null, replicas: 0, env: {} };
    const after = {
      service1: { ...(lastGood.states.service1 ?? gone), replicas: 0 },
      service2: { ...(lastGood.states.service2 ?? gone), replicas: 0 },
    };
    await history.append({
      ...entryFromState("down", "ok", after, [...SERVICES], lastGood.port ?? DEFAULT_PORT, started),
      ...target.historyFields,
    } as HistoryEntry);
    if (!options.silent) ctx.io.stdout(`removed project ${ctx.project}; history kept in ${target.stateDir}\n`);
  });
}
