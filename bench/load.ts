/** wrk runner and the parser of its text output. */

export interface WrkResult {
  requests: number;
  durationS: number;
  requestsPerSec: number;
  latencyAvgMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Non-2xx/3xx answers plus socket errors (connect, read, write, timeout). */
  errors: number;
  non2xx: number;
  socketErrors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "1.23ms" → 1.23, "850.00us" → 0.85, "1.02s" → 1020. */
export function parseDurationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`wrk: cannot read the duration "${text}"`);
  // biome-ignore lint/style/noNonNullAssertion: both groups are required by the pattern
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** Parses `wrk --latency` output; throws when the summary lines are missing. */
export function parseWrk(output: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m|h)/.exec(output);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const avg = /^\s*Latency\s+([\d.]+\w+)/m.exec(output);
  if (!total || !rps || !avg) throw new Error(`wrk: unexpected output:\n${output}`);
  const percentile = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+\\w+)`, "m").exec(output);
    if (!m?.[1]) throw new Error(`wrk: no ${p}% latency in output (was --latency given?)`);
    return parseDurationMs(m[1]);
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = sock ? sock.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requests: Number(total[1]),
    // biome-ignore lint/style/noNonNullAssertion: required groups
    durationS: parseDurationMs(`${total[2]!}${total[3]!}`) / 1000,
    // biome-ignore lint/style/noNonNullAssertion: required group
    requestsPerSec: Number(rps[1]!),
    // biome-ignore lint/style/noNonNullAssertion: required group
    latencyAvgMs: parseDurationMs(avg[1]!),
    p50Ms: percentile("50"),
    p90Ms: percentile("90"),
    p99Ms: percentile("99"),
    errors: non2xx + socketErrors,
    non2xx,
    socketErrors,
  };
}

export interface WrkOptions {
  url: string;
  connections: number;
  durationS: number;
  /** CPU list for taskset (e.g. "1"), or null to run unpinned. */
  cpus: string | null;
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const wrk = ["wrk", "-t1", `-c${options.connections}`, `-d${options.durationS}s`, "--latency", options.url];
  const cmd = options.cpus === null ? wrk : ["taskset", "-c", options.cpus, ...wrk];
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`wrk exited ${code}: ${err.trim() || out.trim()}`);
  return parseWrk(out);
}
