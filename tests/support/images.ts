/**
 * The service images the Docker suites run, built once per `bun test` process from the working
 * tree with the production library (lib/images/build.ts), so every suite tests what ships.
 * Fixed metadata keeps rebuilds of an unchanged tree a cache hit. The tags are reused by the
 * next run; an image they pointed at before is removed once replaced, so runs do not pile up.
 *
 * A release tests its candidate itself: with TIMEKIT_CANDIDATE_IMAGE=timekit/service2:1.4.0 (the
 * image `build` made), that service's suites run that very image (it gets the test tag; nothing
 * is rebuilt) and expect its own metadata; the other service is built as usual.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuiltImage, buildImage } from "../../lib/images/build";
import { inspectImage, tagImage } from "../../lib/images/docker";
import { sourceMetadata } from "../../lib/images/metadata";
import { REPO_ROOT } from "../../lib/paths";
import { SERVICES, type ServiceName } from "../../lib/services";
import { run } from "./docker";

export const TEST_REPOSITORY = "timekit-test";
export const TEST_TAG = "latest";
export const TEST_METADATA = {
  version: "0.0.0-dockertest",
  commit: "d0c4e7e57000",
  created: "2026-01-01T00:00:00.000Z",
  sourceUrl: "https://example.invalid/timekit",
} as const;

export type TestImages = Record<ServiceName, BuiltImage>;

export const testImageRef = (service: ServiceName) => `${TEST_REPOSITORY}/${service}:${TEST_TAG}`;

async function imageId(ref: string): Promise<string | null> {
  const out = await run(["docker", "image", "inspect", "--format", "{{.Id}}", ref], { timeoutMs: 30_000 });
  return out.exitCode === 0 ? out.stdout.trim() : null;
}

export const CANDIDATE_ENV = "TIMEKIT_CANDIDATE_IMAGE";

/** The candidate named by TIMEKIT_CANDIDATE_IMAGE when it is an image of `service`, else null. */
export async function candidateImage(service: ServiceName): Promise<{ ref: string; id: string } | null> {
  const ref = Bun.env[CANDIDATE_ENV];
  if (!ref) return null;
  const info = await inspectImage(ref);
  if (!info) throw new Error(`${CANDIDATE_ENV}=${ref} is not in the engine: build it first (bun deploy.ts build)`);
  const labelled = info.labels["io.timekit.service"];
  if (!labelled) throw new Error(`${CANDIDATE_ENV}=${ref} has no io.timekit.service label: not a timekit image`);
  return labelled === service ? { ref, id: info.id } : null;
}

/** What a suite expects an image of `service` to say about itself (labels, GET /version). */
export async function expectedMetadata(
  service: ServiceName,
): Promise<{ version: string; commit: string; created: string; sourceUrl: string }> {
  const candidate = await candidateImage(service);
  if (!candidate) return TEST_METADATA;
  // A candidate is built from this checkout by `build --version=<its tag>`.
  const meta = await sourceMetadata(REPO_ROOT);
  return { version: candidate.ref.slice(candidate.ref.lastIndexOf(":") + 1), ...meta };
}

async function useCandidate(service: ServiceName, candidate: { ref: string; id: string }): Promise<BuiltImage> {
  await tagImage(candidate.id, testImageRef(service));
  const info = await inspectImage(candidate.id);
  if (!info) throw new Error(`${candidate.ref} vanished from the engine`);
  const labels = info.labels;
  return {
    service,
    id: info.id,
    tags: [testImageRef(service)],
    repoDigests: info.repoDigests,
    version: labels["org.opencontainers.image.version"] ?? "",
    commit: labels["org.opencontainers.image.revision"] ?? "",
    created: labels["org.opencontainers.image.created"] ?? "",
    builderImage: candidate.ref,
    builderSource: "option",
    size: info.size,
    labels,
  };
}

async function build(service: ServiceName): Promise<BuiltImage> {
  const candidate = await candidateImage(service);
  if (candidate) return useCandidate(service, candidate);
  const ref = testImageRef(service);
  const previous = await imageId(ref);
  const output: string[] = [];
  const image = await buildImage({
    service,
    tags: [ref],
    ...TEST_METADATA,
    onProgress: (line) => output.push(line),
  }).catch((error: Error) => {
    throw new Error(`${error.message}\n--- build output (last 30 lines):\n${output.slice(-30).join("\n")}`);
  });
  if (previous && previous !== image.id) {
    // Without force: an image a leftover container still uses stays until .ci/run removes it.
    await run(["docker", "image", "rm", previous], { timeoutMs: 60_000 });
  }
  return image;
}

let images: Promise<TestImages> | undefined;

/** Both images, built on first call (sequentially: the machine has two cores). */
export function testImages(): Promise<TestImages> {
  images ??= (async () => {
    const built = {} as TestImages;
    for (const service of SERVICES) built[service] = await build(service);
    return built;
  })();
  return images;
}

/**
 * Bytes of the Bun runtime every `bun build --compile` output carries: the size of a compiled
 * empty program. (It is ~1.8 MB larger than the `bun` executable itself: the compiled format
 * stores a section in the file that the plain executable leaves to zero-filled memory.)
 */
export async function compiledRuntimeBytes(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "timekit-runtime-size-"));
  try {
    writeFileSync(join(dir, "empty.ts"), "export {};\n");
    const out = await run(
      [process.execPath, "build", "--compile", `--outfile=${join(dir, "empty")}`, join(dir, "empty.ts")],
      {
        timeoutMs: 120_000,
      },
    );
    if (out.exitCode !== 0) throw new Error(`compiling an empty program failed: ${out.stderr}`);
    return statSync(join(dir, "empty")).size;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
