/**
 * Shows how service2's memory answers hostile input: starts the compiled binaries from `bun run
 * build`, sends distinct zone/locale spellings and combinations, and prints resident memory.
 *
 *   bun run build && bun tests/reliability/memory-probe.ts [requests] [dist directory]
 */
import { type ServiceProcess, startBinary, stopAll } from "../integration/processes";
import { flood } from "./hostile-variants";
import { residentBytes } from "./record";

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

const requests = Number(process.argv[2] ?? 50_000);
const dist = process.argv[3] ?? new URL("../../dist", import.meta.url).pathname;
const started: ServiceProcess[] = [];
try {
  const service1 = await startBinary(`${dist}/service1`, { LOG_LEVEL: "warn" });
  started.push(service1);
  const service2 = await startBinary(`${dist}/service2`, { SERVICE1_URL: service1.url, LOG_LEVEL: "warn" });
  started.push(service2);
  const pid = service2.process.pid;
  const before = await residentBytes(pid);
  console.log(`service2 pid ${pid}: ${mib(before)} before`);
  const step = Math.max(1, Math.floor(requests / 5));
  for (let sent = 0; sent < requests; sent += step) {
    const { statuses } = await flood(service2.url, Math.min(step, requests - sent), 32, sent);
    const status = await Bun.file(`/proc/${pid}/status`).text();
    const kib = (field: string) =>
      `${field} ${Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]) / 1024)} MiB`;
    console.log(
      `${sent + step} requests: ${mib(await residentBytes(pid))} (growth ${mib((await residentBytes(pid)) - before)}) ${kib("RssAnon")} ${kib("RssFile")} statuses ${JSON.stringify(statuses)}`,
    );
  }
} finally {
  await stopAll(started);
}
