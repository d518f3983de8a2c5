/** GET /v1/timestamp on service1 and its peers, and the two-hop GET /v1/format, interleaved. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runWrk, type WrkResult } from "./load";
import { note, step } from "./progress";
import { cpuMicros, freePort, rssBytes, type Server, startServer } from "./servers";
import { type Summary, summarize } from "./stats";

export const ROOT = new URL("..", import.meta.url).pathname;
export const CACHE = join(ROOT, ".cache/bench");
export const PEERS_DIR = join(ROOT, ".cache/bench-peers");
/** The peers' packages, installed by the bench outside the workspace; prom-client as the services pin it. */
export const PEER_VERSIONS = {
  express: "5.3.0",
  fastify: "5.12.8",
  hono: "4.13.19",
  "pino-http": "11.0.0",
  "prom-client": "15.1.3",
} as const;

export interface Placement {
  /** Where servers run and where wrk runs (taskset CPU lists), or null when taskset is missing. */
  server: string | null;
  client: string | null;
}

export interface TargetSpec {
  id: string;
  label: string;
  path: string;
  /** Starts the server(s); the first is the one that answers wrk. */
  start: (placement: Placement) => Promise<Server[]>;
}

export interface RoundFigure extends WrkResult {
  round: number;
  cpuUsPerRequest: number;
  peakRssBytes: number;
}

export interface TargetResult {
  id: string;
  label: string;
  path: string;
  rounds: RoundFigure[];
  requestsPerSec: Summary;
  p99Ms: Summary;
  cpuUsPerRequest: Summary;
  peakRssMiB: Summary;
  errors: number;
}

export interface ThroughputResult {
  measuredAt: string;
  connections: number;
  durationS: number;
  warmupS: number;
  rounds: number;
  placement: Placement;
  targets: Record<string, TargetResult>;
  skipped: Record<string, string>;
}

export interface ThroughputOptions {
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
  placement: Placement;
}

async function compilePeer(name: string): Promise<string> {
  const out = join(CACHE, name);
  const proc = Bun.spawn(
    ["bun", "build", "--compile", "--bytecode", join(ROOT, `bench/peers/${name}.ts`), "--outfile", out],
    { cwd: ROOT, stdout: "ignore", stderr: "pipe" },
  );
  if ((await proc.exited) !== 0) throw new Error(`compile ${name}: ${await new Response(proc.stderr).text()}`);
  return out;
}

export async function compiledPeers(): Promise<{ rawBun: string; elysiaBare: string }> {
  const [rawBun, elysiaBare] = await Promise.all([compilePeer("raw-bun"), compilePeer("elysia-bare")]);
  return { rawBun, elysiaBare };
}

/** Installs the peers' packages outside the workspace (never into package.json or bun.lock). */
export async function ensurePeerPackages(): Promise<void> {
  const have = (pkg: string, version: string) => {
    const file = join(PEERS_DIR, "node_modules", pkg, "package.json");
    return existsSync(file) && JSON.parse(readFileSync(file, "utf8")).version === version;
  };
  const wanted = Object.entries(PEER_VERSIONS);
  if (wanted.every(([pkg, version]) => have(pkg, version))) return;
  const proc = Bun.spawn(
    [
      "npm",
      "install",
      "--prefix",
      PEERS_DIR,
      "--no-save",
      "--no-audit",
      "--no-fund",
      ...wanted.map(([pkg, version]) => `${pkg}@${version}`),
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  if ((await proc.exited) !== 0) throw new Error(`npm install: ${await new Response(proc.stderr).text()}`);
}

/** Debian's gunicorn and Flask (PyPI is unreachable here); installs them with apt-get if missing. */
export async function ensureGunicorn(): Promise<string> {
  const gunicorn = "/usr/bin/gunicorn";
  const flaskOk = () => Bun.spawnSync(["/usr/bin/python3", "-c", "import flask"]).exitCode === 0;
  if (existsSync(gunicorn) && flaskOk()) return gunicorn;
  if (!Bun.which("apt-get")) throw new Error("gunicorn or python3-flask is missing and apt-get is unavailable");
  const proc = Bun.spawn(["apt-get", "install", "-y", "--no-install-recommends", "gunicorn", "python3-flask"], {
    env: { ...Bun.env, DEBIAN_FRONTEND: "noninteractive" },
    stdout: "ignore",
    stderr: "pipe",
  });
  if ((await proc.exited) !== 0 || !existsSync(gunicorn) || !flaskOk()) {
    throw new Error(
      `apt-get install gunicorn python3-flask failed: ${(await new Response(proc.stderr).text()).trim()}`,
    );
  }
  return gunicorn;
}

async function one(placement: Placement, name: string, cmd: string[], env: Record<string, string> = {}) {
  return startServer({ name, cmd, env, cpus: placement.server, port: await freePort() });
}

/** Every throughput target, in the order they run and are reported. */
export const TARGET_IDS = [
  "raw-bun",
  "service1-info",
  "service1-warn",
  "elysia-bare",
  "hono",
  "hono-logged",
  "fastify",
  "fastify-logged",
  "express",
  "express-logged",
  "flask",
  "two-hop",
];

/** The peers' two modes (bench/peers/*.mjs read PEER_WORK). */
const LOGGED_WORK = "+ its logger, request id, prom-client counter";

export function targetSpecs(bins: { rawBun: string; elysiaBare: string }): TargetSpec[] {
  const s1 = join(ROOT, "dist/service1");
  const s2 = join(ROOT, "dist/service2");
  return [
    {
      id: "raw-bun",
      label: "raw Bun.serve",
      path: "/v1/timestamp",
      start: async (p) => [await one(p, "raw", [bins.rawBun])],
    },
    {
      id: "service1-info",
      label: "service1 (LOG_LEVEL=info)",
      path: "/v1/timestamp",
      start: async (p) => [await one(p, "service1-info", [s1], { LOG_LEVEL: "info" })],
    },
    {
      id: "service1-warn",
      label: "service1 (LOG_LEVEL=warn)",
      path: "/v1/timestamp",
      start: async (p) => [await one(p, "service1-warn", [s1], { LOG_LEVEL: "warn" })],
    },
    {
      id: "elysia-bare",
      label: "bare Elysia (no hooks)",
      path: "/v1/timestamp",
      start: async (p) => [await one(p, "elysia-bare", [bins.elysiaBare])],
    },
    ...peerSpecs("hono", `Hono ${PEER_VERSIONS.hono} (Bun)`, ["bun", join(ROOT, "bench/peers/hono.mjs")]),
    ...peerSpecs("fastify", `Fastify ${PEER_VERSIONS.fastify} (Node ${nodeVersion()})`, [
      "node",
      join(ROOT, "bench/peers/fastify.mjs"),
    ]),
    ...peerSpecs("express", `Express ${PEER_VERSIONS.express} (Node ${nodeVersion()})`, [
      "node",
      join(ROOT, "bench/peers/express.mjs"),
    ]),
    {
      id: "flask",
      label: "Flask under gunicorn (1 sync worker)",
      path: "/v1/timestamp",
      start: async (p) => {
        const gunicorn = await ensureGunicorn();
        const port = await freePort();
        const server = await startServer({
          name: "flask",
          cmd: [
            gunicorn,
            "--workers",
            "1",
            "--bind",
            `127.0.0.1:${port}`,
            "--chdir",
            join(ROOT, "bench/peers"),
            "flask_app:app",
          ],
          env: { PYTHONDONTWRITEBYTECODE: "1" },
          cpus: p.server,
          port,
        });
        return [server];
      },
    },
    {
      id: "two-hop",
      label: "two-hop service2 → service1 (info)",
      path: "/v1/format",
      start: async (p) => {
        const upstream = await one(p, "service1-upstream", [s1], { LOG_LEVEL: "info" });
        try {
          return [await one(p, "service2", [s2], { LOG_LEVEL: "info", SERVICE1_URL: upstream.url }), upstream];
        } catch (error) {
          await upstream.stop();
          throw error;
        }
      },
    },
  ];
}

/** A peer bare, and doing service1's per-request work its own way (bench/peers/*.mjs, PEER_WORK). */
function peerSpecs(id: string, label: string, cmd: string[]): TargetSpec[] {
  const spec = (work: "bare" | "logged"): TargetSpec => ({
    id: work === "bare" ? id : `${id}-logged`,
    label: work === "bare" ? `${label}, bare` : `${label} ${LOGGED_WORK}`,
    path: "/v1/timestamp",
    start: async (p) => {
      await ensurePeerPackages();
      return [await one(p, work === "bare" ? id : `${id}-logged`, cmd, { PEERS_DIR, PEER_WORK: work })];
    },
  });
  return [spec("bare"), spec("logged")];
}

let nodeVersionCache: string | null = null;
function nodeVersion(): string {
  nodeVersionCache ??= Bun.spawnSync(["node", "--version"]).stdout.toString().trim().replace(/^v/, "");
  return nodeVersionCache;
}

async function measure(servers: Server[], url: string, opts: ThroughputOptions, round: number): Promise<RoundFigure> {
  const pids = () => servers.flatMap((s) => s.pids());
  if (opts.warmupS > 0) {
    await runWrk({ url, connections: opts.connections, durationS: opts.warmupS, cpus: opts.placement.client });
  }
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssBytes(servers[0] ? servers[0].pids() : []));
  }, 200);
  const before = cpuMicros(pids());
  try {
    const wrk = await runWrk({
      url,
      connections: opts.connections,
      durationS: opts.durationS,
      cpus: opts.placement.client,
    });
    const cpu = cpuMicros(pids()) - before;
    peak = Math.max(peak, rssBytes(servers[0] ? servers[0].pids() : []));
    return { ...wrk, round, cpuUsPerRequest: wrk.requests > 0 ? cpu / wrk.requests : Number.NaN, peakRssBytes: peak };
  } finally {
    clearInterval(sampler);
  }
}

export async function runThroughput(specs: TargetSpec[], opts: ThroughputOptions): Promise<ThroughputResult> {
  const running = new Map<string, Server[]>();
  const skipped: Record<string, string> = {};
  const rounds = new Map<string, RoundFigure[]>();
  try {
    for (const spec of specs) {
      try {
        running.set(spec.id, await step(`start ${spec.label}`, () => spec.start(opts.placement)));
        rounds.set(spec.id, []);
      } catch (error) {
        skipped[spec.id] = error instanceof Error ? error.message : String(error);
        note(`skipping ${spec.label}: ${skipped[spec.id]}`);
      }
    }
    const active = specs.filter((s) => running.has(s.id));
    for (let r = 0; r < opts.rounds; r++) {
      // Rotate the order each round so no target always runs right after the same neighbour.
      const order = active.map((_, i) => active[(i + r) % active.length] as TargetSpec);
      for (const spec of order) {
        const servers = running.get(spec.id) as Server[];
        const url = `${(servers[0] as Server).url}${spec.path}`;
        const figure = await step(`round ${r + 1}/${opts.rounds}: ${spec.label}`, () => measure(servers, url, opts, r));
        note(
          `${Math.round(figure.requestsPerSec)} req/s, p99 ${figure.p99Ms.toFixed(2)} ms, ${figure.cpuUsPerRequest.toFixed(1)} µs CPU/req, ${figure.errors} errors`,
        );
        rounds.get(spec.id)?.push(figure);
      }
    }
  } finally {
    await Promise.all([...running.values()].flat().map((s) => s.stop()));
  }
  const targets: Record<string, TargetResult> = {};
  for (const spec of specs) {
    const list = rounds.get(spec.id);
    if (!list || list.length === 0) continue;
    targets[spec.id] = {
      id: spec.id,
      label: spec.label,
      path: spec.path,
      rounds: list,
      requestsPerSec: summarize(list.map((f) => f.requestsPerSec)),
      p99Ms: summarize(list.map((f) => f.p99Ms)),
      cpuUsPerRequest: summarize(list.map((f) => f.cpuUsPerRequest)),
      peakRssMiB: summarize(list.map((f) => f.peakRssBytes / 1024 / 1024)),
      errors: list.reduce((sum, f) => sum + f.errors, 0),
    };
  }
  return {
    measuredAt: new Date().toISOString(),
    connections: opts.connections,
    durationS: opts.durationS,
    warmupS: opts.warmupS,
    rounds: opts.rounds,
    placement: opts.placement,
    targets,
    skipped,
  };
}
