import { mkdirSync } from "node:fs";

const directory = new URL("../../bench/results/reliability/", import.meta.url).pathname;

/** Each reliability test leaves its figures here; `bun run bench` folds them into bench/REPORT.md. */
export async function recordReliability(
  name: string,
  figures: Record<string, number | string | boolean>,
): Promise<void> {
  mkdirSync(directory, { recursive: true });
  await Bun.write(
    `${directory}${name}.json`,
    `${JSON.stringify({ name, at: new Date().toISOString(), ...figures }, null, 2)}\n`,
  );
}

/** Resident memory of a process in bytes, from /proc (Linux). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return kib * 1024;
}
