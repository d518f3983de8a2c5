import { LEGACY_EPOCH_WORD, type Timestamp } from "./contract";

/** Built from epoch milliseconds, so the process's TZ can never shift it (legacy defect 3). */
export function timestampAt(epochMs: number): Timestamp {
  return { epoch: Math.floor(epochMs / 1000), epochMs, iso: new Date(epochMs).toISOString() };
}

/** The legacy text answer: epoch seconds for `timestamp`, ISO-8601 otherwise, newline-terminated like print(). */
export function legacyAnswer(body: string, epochMs: number): string {
  const firstLine = body.split("\n", 1)[0]?.trim() ?? "";
  const { epoch, iso } = timestampAt(epochMs);
  return `${firstLine === LEGACY_EPOCH_WORD ? epoch : iso}\n`;
}
