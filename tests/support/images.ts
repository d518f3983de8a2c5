/**
 * The service images the Docker suites run, built once per `bun test` process from the working
 * tree with the production library (lib/images/build.ts), so every suite tests what ships.
 * Fixed metadata keeps rebuilds of an unchanged tree a cache hit. The tags are reused by the
 * next run; an image they pointed at before is removed once replaced, so runs do not pile up.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuiltImage, buildImage } from "../../lib/images/build";
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

async function build(service: ServiceName): Promise<BuiltImage> {
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
