/**
 * Images for the suites that deploy with `deploy.ts`, in a namespace of their own
 * (`timekit-test-<suite>/serviceN:<version>`, never the user's `timekit/...`), each carrying the
 * run's label so cleanup removes exactly what this run made:
 *
 * - releases: the working tree's build (tests/support/images.ts) with another version label;
 * - healthy but wrong: built from a patched copy of the tree whose real route throws (service1
 *   `GET /v1/timestamp`, service2 `/v1/format` answer 500) while /healthz answers 200. That base
 *   build is kept between runs under a tag naming the tree's build it was patched from, so an
 *   unchanged tree does not compile it again.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { buildImage } from "../../lib/images/build";
import type { ServiceName } from "../../lib/services";
import { run } from "./docker";
import { TEST_METADATA, testImages } from "./images";

const ROOT = resolve(import.meta.dir, "../..");
export const RUN_LABEL = "io.timekit.test.run";
/** This test process: every image and project it makes is labelled or named with it. */
export const RUN_ID = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

const runRepositories = new Set<string>();

/**
 * A repository only this test process tags into (`timekit-test-<what>-<run>`): two runs at once,
 * from two trees that build different images, never move each other's `1.0.0` under a deploy.
 */
export function runRepository(what: string): string {
  const repository = `timekit-test-${what}-${RUN_ID}`;
  runRepositories.add(repository);
  return repository;
}

/** `FROM base` + labels (no recompile): another version of the same build, labelled with the run. */
export async function deriveVersion(base: string, ref: string, version: string): Promise<void> {
  const dockerfile = `FROM ${base}\nLABEL org.opencontainers.image.version="${version}" ${RUN_LABEL}="${RUN_ID}" timekit.test="true"\n`;
  const out = await run(["docker", "build", "-q", "-t", ref, "-"], {
    env: { DOCKER_BUILDKIT: "0" },
    input: dockerfile,
    timeoutMs: 120_000,
  });
  if (out.exitCode !== 0) throw new Error(`deriving ${ref} from ${base} failed: ${out.stderr}`);
}

/** Files the image build reads (the .dockerignore allowlist), copied to a temporary tree. */
const BUILD_INPUTS = [
  "Dockerfile",
  ".dockerignore",
  "package.json",
  "bun.lock",
  "bunfig.toml",
  "tsconfig.json",
  "packages",
  "service1",
  "service2",
  "scripts/build.ts",
  "lib/services.ts",
  "lib/images",
];

/** Where each service's real route is made to throw: the function it answers with. */
const BREAK: Record<ServiceName, { file: string; signature: string }> = {
  service1: { file: "service1/src/timestamp.ts", signature: "export function timestampAt(" },
  service2: { file: "service2/src/format.ts", signature: "export function format(" },
};

function patchedTree(service: ServiceName): string {
  const dir = mkdtempSync(join(tmpdir(), "timekit-test-broken-"));
  for (const entry of BUILD_INPUTS) {
    const to = join(dir, entry);
    mkdirSync(dirname(to), { recursive: true });
    cpSync(join(ROOT, entry), to, { recursive: true, filter: (src) => !src.includes("node_modules") });
  }
  const { file, signature } = BREAK[service];
  const source = readFileSync(join(dir, file), "utf8");
  if (!source.includes(signature)) throw new Error(`${file} no longer has "${signature}": update BREAK`);
  const name = signature.slice("export function ".length, -1);
  writeFileSync(
    join(dir, file),
    source.replace(
      signature,
      `export function ${name}(..._args: unknown[]): never {\n  throw new Error("broken on purpose: a test build");\n}\nexport function ${name}Original(`,
    ),
  );
  return dir;
}

async function imageId(ref: string): Promise<string | null> {
  const out = await run(["docker", "image", "inspect", "--format", "{{.Id}}", ref], { timeoutMs: 30_000 });
  return out.exitCode === 0 ? out.stdout.trim() : null;
}

/**
 * `repository/service:version` answering 500 on its real route and 200 on /healthz. The patched
 * build is cached as `timekit-test/<service>:broken-<id of the tree's build>`.
 */
export async function healthyButWrong(service: ServiceName, ref: string, version: string): Promise<void> {
  const tree = (await testImages())[service];
  const cached = `timekit-test/${service}:broken-${tree.id.replace(/^sha256:/, "").slice(0, 12)}`;
  if ((await imageId(cached)) === null) {
    const dir = patchedTree(service);
    try {
      await buildImage({ service, context: dir, tags: [cached], ...TEST_METADATA, version });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  await deriveVersion(cached, ref, version);
}

/**
 * Every image this run labelled, removed (their other tags, e.g. pulled copies, go with them), and
 * every tag left in this run's repositories (the edge images a deploy assembled there).
 */
export async function removeRunImages(): Promise<void> {
  const out = await run(["docker", "image", "ls", "-q", "--no-trunc", "--filter", `label=${RUN_LABEL}=${RUN_ID}`]);
  const ids = [...new Set(out.stdout.split("\n").filter(Boolean))];
  if (ids.length > 0) await run(["docker", "image", "rm", "-f", ...ids], { timeoutMs: 120_000 });
  for (const repository of runRepositories) {
    const tags = await run([
      "docker",
      "image",
      "ls",
      "--format",
      "{{.Repository}}:{{.Tag}}",
      "--filter",
      `reference=${repository}/*`,
    ]);
    const refs = tags.stdout.split("\n").filter((ref) => ref && !ref.endsWith(":<none>"));
    if (refs.length > 0) await run(["docker", "image", "rm", ...refs], { timeoutMs: 120_000 });
  }
}
