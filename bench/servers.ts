/** Starting and stopping servers under test, and reading their CPU time and memory from /proc. */
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { Subprocess } from "bun";

export interface Server {
  name: string;
  url: string;
  proc: Subprocess;
  /** Every process whose CPU counts for this server (the main pid and its descendants). */
  pids(): number[];
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  cmd: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** CPU list for taskset, or null to run unpinned. */
  cpus: string | null;
  port: number;
  readyTimeoutMs?: number;
}

/** A port the kernel just handed out on 127.0.0.1 (free at the time of asking). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200 or `deadline` (performance.now() ms) passes. */
export async function waitFor200(url: string, deadline: number, intervalMs = 2): Promise<boolean> {
  while (performance.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(500) });
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await Bun.sleep(intervalMs);
  }
  return false;
}

const live = new Set<Server>();

/** Stops every server still running; run.ts calls it on exit, error and signals. */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...live].map((s) => s.stop()));
}

export async function startServer(options: StartOptions): Promise<Server> {
  const cmd = options.cpus === null ? options.cmd : ["taskset", "-c", options.cpus, ...options.cmd];
  let stderr = "";
  const proc = Bun.spawn(cmd, {
    cwd: options.cwd,
    env: { ...Bun.env, ...options.env, PORT: String(options.port), HOST: "127.0.0.1" },
    // Access logs go to /dev/null: a pipe read by this process would bill the bench for them.
    stdout: "ignore",
    stderr: "pipe",
  });
  void (async () => {
    for await (const chunk of proc.stderr) stderr = (stderr + new TextDecoder().decode(chunk)).slice(-4000);
  })();
  const url = `http://127.0.0.1:${options.port}`;
  const server: Server = {
    name: options.name,
    url,
    proc,
    pids: () => [proc.pid, ...descendants(proc.pid)],
    stop: async () => {
      live.delete(server);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      for (const pid of server.pids().reverse()) tryKill(pid, "SIGTERM");
      const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
      if (!done) for (const pid of [proc.pid, ...descendants(proc.pid)]) tryKill(pid, "SIGKILL");
      await proc.exited;
    },
  };
  live.add(server);
  const ok = await waitFor200(`${url}/healthz`, performance.now() + (options.readyTimeoutMs ?? 15_000), 20);
  if (!ok) {
    await server.stop();
    throw new Error(`${options.name} did not answer /healthz on ${url}: ${stderr.trim().slice(-800)}`);
  }
  return server;
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Field 4 (ppid), 14 (utime), 15 (stime) of /proc/PID/stat; the comm field may hold spaces. */
export function parseStat(text: string): { ppid: number; ticks: number } {
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state)
  return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

function readStat(pid: number): { ppid: number; ticks: number } | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length) {
    const pid = queue.shift() as number;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

let clockTicks: number | null = null;

/** USER_HZ: the unit of utime/stime (100 on every Linux we know, but asked, not assumed). */
export function clockTicksPerSecond(): number {
  if (clockTicks === null) {
    const out = Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim();
    clockTicks = Number(out) > 0 ? Number(out) : 100;
  }
  return clockTicks;
}

/** utime+stime of the given processes, in microseconds. */
export function cpuMicros(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.ticks ?? 0;
  return (ticks * 1_000_000) / clockTicksPerSecond();
}

/** VmRSS in bytes, summed over the processes; 0 for a process that is gone. */
export function rssBytes(pids: readonly number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      kib += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kib * 1024;
}
