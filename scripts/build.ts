/**
 * Compiles each service into one self-contained binary: `bun run build [--service=S] [--target=T]`
 * (`--bytecode`: also precompiled bytecode, which the bench measures and the images leave out).
 * Version, commit and build time (the commit's: reproducible) are baked in (GET /version); the binary never auto-loads a
 * `.env` or `bunfig.toml` from the directory it runs in.
 *
 * It also runs inside the image's builder stage, where only lib/services.ts and lib/images/ are
 * copied, so it reads its flags with node:util's strict parseArgs rather than lib/cli/.
 */
import { parseArgs } from "node:util";
import { $ } from "bun";
import { isServiceName, SERVICES, type ServiceName } from "../lib/services";

const USAGE = `usage: bun run build [--service=all|${SERVICES.join("|")}] [--target=bun-linux-x64|bun-linux-arm64|...] [--outdir=dist] [--bytecode]`;

function fail(message: string): never {
  console.error(`build: ${message}\n${USAGE}`);
  process.exit(2);
}

function readFlags() {
  try {
    return parseArgs({
      options: {
        service: { type: "string", default: "all" },
        target: { type: "string" },
        outdir: { type: "string", default: "dist" },
        bytecode: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
}

const values = readFlags();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const selected: readonly ServiceName[] =
  values.service === "all"
    ? SERVICES
    : isServiceName(values.service)
      ? [values.service]
      : fail(`--service must be one of all, ${SERVICES.join(", ")}; got ${JSON.stringify(values.service)}`);

async function commit(): Promise<string> {
  if (Bun.env.BUILD_COMMIT) return Bun.env.BUILD_COMMIT;
  const result = await $`git rev-parse --short=12 HEAD`.nothrow().quiet();
  return result.exitCode === 0 ? result.stdout.toString().trim() : "unknown";
}

/**
 * The build time baked in: BUILD_TIME, else SOURCE_DATE_EPOCH, else the commit's time, so
 * building one commit twice gives byte-identical binaries; the clock only outside a checkout.
 */
async function builtAt(): Promise<string> {
  if (Bun.env.BUILD_TIME) return Bun.env.BUILD_TIME;
  let epoch = Bun.env.SOURCE_DATE_EPOCH;
  if (!epoch) {
    const result = await $`git log -1 --format=%ct`.nothrow().quiet();
    if (result.exitCode === 0) epoch = result.stdout.toString().trim();
  }
  return (epoch ? new Date(Number(epoch) * 1000) : new Date()).toISOString();
}

const root = new URL("..", import.meta.url).pathname;
const buildCommit = await commit();
const built = await builtAt();

for (const service of selected) {
  const { version } = await Bun.file(`${root}${service}/package.json`).json();
  const info = { version: Bun.env.BUILD_VERSION || version, commit: buildCommit, built };
  const outfile = `${values.outdir}/${service}`;
  const started = performance.now();
  const args = [
    "build",
    "--compile",
    ...(values.bytecode ? ["--bytecode"] : []),
    "--format=esm",
    "--minify-syntax",
    // Start-up (bench/REPORT.md, cold start): modules loaded with import() (prom-client, Luxon,
    // the OpenAPI generator, Elysia's file-type) go in chunks of their own, parsed only when first
    // loaded; and supports-color stays out: its static imports of node:tty and node:os would be
    // hoisted to the top of the bundle and load Node's stream stack before the first line runs
    // (~40 ms here). Only debug (under Elysia's lazily loaded file-type) asks for it, inside a
    // try, and works without it.
    "--splitting",
    "--external=supports-color",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    `--define=BUILD_INFO=${JSON.stringify(info)}`,
    ...(values.target ? [`--target=${values.target}`] : []),
    `--outfile=${outfile}`,
    `${root}${service}/src/main.ts`,
  ];
  const result = Bun.spawnSync([process.execPath, ...args], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    console.error(result.stdout.toString(), result.stderr.toString());
    fail(`compiling ${service} failed`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`built ${outfile} (${info.version}, ${info.commit}) in ${seconds}s`);
}
