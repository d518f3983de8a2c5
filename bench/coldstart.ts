/** Spawn (or docker run) to the first 200 from GET /healthz, interleaved with a raw Bun baseline. */
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { docker } from "./docker";
import { note, step } from "./progress";
import { freePort, waitFor200 } from "./servers";
import { type Summary, summarize } from "./stats";
import { CACHE, ROOT } from "./throughput";

export interface ColdStartResult {
  measuredAt: string;
  rounds: number;
  binaries: Record<string, { label: string; ms: Summary; bytes?: number }>;
  container: { image: string; ms: Summary } | null;
  containerSkipped?: string;
}

const DEADLINE_MS = 10_000;
const SERVICE2_ENV = { LOG_LEVEL: "info", SERVICE1_URL: "http://127.0.0.1:9" };

async function binaryColdStart(cmd: string[], env: Record<string, string>, cpus: string | null): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const proc = Bun.spawn(cpus === null ? cmd : ["taskset", "-c", cpus, ...cmd], {
    env: { ...Bun.env, ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    const ok = await waitFor200(`http://127.0.0.1:${port}/healthz`, started + DEADLINE_MS, 1);
    if (!ok) throw new Error(`${cmd[0]} gave no 200 within ${DEADLINE_MS} ms`);
    return performance.now() - started;
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

async function containerColdStart(image: string, name: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const run = await docker(["run", "-d", "--rm", "--name", name, "-p", `127.0.0.1:${port}:8080`, image]);
  try {
    if (run.code !== 0) throw new Error(`docker run ${image}: ${run.stderr.trim()}`);
    const ok = await waitFor200(`http://127.0.0.1:${port}/healthz`, started + DEADLINE_MS, 2);
    if (!ok) throw new Error(`container ${image} gave no 200 within ${DEADLINE_MS} ms`);
    return performance.now() - started;
  } finally {
    await docker(["rm", "-f", name]);
  }
}

export interface BytecodeBinaries {
  service1: string;
  service2: string;
}

/**
 * The services compiled as scripts/build.ts compiles them, plus `--bytecode`: what precompiled
 * bytecode would buy at start-up, and what it costs in bytes, measured rather than assumed.
 */
export async function compileWithBytecode(): Promise<BytecodeBinaries> {
  const dir = join(CACHE, "bytecode");
  mkdirSync(dir, { recursive: true });
  const compile = async (service: "service1" | "service2") => {
    const out = join(dir, service);
    const proc = Bun.spawn(
      [
        process.execPath,
        "build",
        "--compile",
        "--bytecode",
        "--format=esm",
        "--minify-syntax",
        "--splitting",
        "--external=supports-color",
        "--no-compile-autoload-dotenv",
        "--no-compile-autoload-bunfig",
        `--outfile=${out}`,
        join(ROOT, service, "src/main.ts"),
      ],
      { cwd: ROOT, stdout: "ignore", stderr: "pipe" },
    );
    if ((await proc.exited) !== 0) {
      throw new Error(`compile ${service} --bytecode: ${await new Response(proc.stderr).text()}`);
    }
    return out;
  };
  const [service1, service2] = await Promise.all([compile("service1"), compile("service2")]);
  return { service1, service2 };
}

export async function runColdStart(opts: {
  rounds: number;
  cpus: string | null;
  bins: { rawBun: string; elysiaBare: string };
  /** The services compiled with --bytecode, or null when that compile failed. */
  bytecode: BytecodeBinaries | null;
  /** Image to start, or null with the reason when Docker or the image is unavailable. */
  image: string | null;
  imageSkipped?: string;
  namePrefix: string;
}): Promise<ColdStartResult> {
  const binaries: { id: string; label: string; cmd: string[]; env: Record<string, string> }[] = [
    { id: "raw-bun", label: "raw Bun.serve (compiled)", cmd: [opts.bins.rawBun], env: {} },
    { id: "elysia-bare", label: "bare Elysia (compiled)", cmd: [opts.bins.elysiaBare], env: {} },
    { id: "service1", label: "service1 binary", cmd: [join(ROOT, "dist/service1")], env: { LOG_LEVEL: "info" } },
    // service2 answers /healthz without service1 (liveness); nothing listens on the discard port.
    { id: "service2", label: "service2 binary", cmd: [join(ROOT, "dist/service2")], env: SERVICE2_ENV },
  ];
  if (opts.bytecode) {
    binaries.push(
      {
        id: "service1-bytecode",
        label: "service1 compiled with --bytecode",
        cmd: [opts.bytecode.service1],
        env: { LOG_LEVEL: "info" },
      },
      {
        id: "service2-bytecode",
        label: "service2 compiled with --bytecode",
        cmd: [opts.bytecode.service2],
        env: SERVICE2_ENV,
      },
    );
  }
  const samples = new Map<string, number[]>(binaries.map((b) => [b.id, []]));
  const containerSamples: number[] = [];
  let containerSkipped = opts.image === null ? (opts.imageSkipped ?? "no image") : undefined;
  for (let r = 0; r < opts.rounds; r++) {
    await step(`cold start round ${r + 1}/${opts.rounds}`, async () => {
      for (let i = 0; i < binaries.length; i++) {
        const b = binaries[(i + r) % binaries.length] as (typeof binaries)[number];
        samples.get(b.id)?.push(await binaryColdStart(b.cmd, b.env, opts.cpus));
      }
      if (opts.image !== null && containerSkipped === undefined) {
        try {
          containerSamples.push(await containerColdStart(opts.image, `${opts.namePrefix}-cold-${r}`));
        } catch (error) {
          containerSkipped = error instanceof Error ? error.message : String(error);
          note(`container cold start not measured: ${containerSkipped}`);
        }
      }
    });
  }
  const result: ColdStartResult = {
    measuredAt: new Date().toISOString(),
    rounds: opts.rounds,
    binaries: Object.fromEntries(
      binaries.map((b) => [
        b.id,
        { label: b.label, ms: summarize(samples.get(b.id) ?? []), bytes: statSync(b.cmd[0] as string).size },
      ]),
    ),
    container:
      opts.image !== null && containerSkipped === undefined
        ? { image: opts.image, ms: summarize(containerSamples) }
        : null,
  };
  if (containerSkipped !== undefined) result.containerSkipped = containerSkipped;
  return result;
}
