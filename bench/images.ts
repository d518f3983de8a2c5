/** The service images the bench measures and deploys, and their sizes against the Bun runtime. */
import { realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildImage } from "../lib/images/build";
import { docker, gzippedImageSize, imageExists, imageSize } from "./docker";
import { note, step } from "./progress";
import { ROOT } from "./throughput";

export const BENCH_SERVICES = ["service1", "service2"] as const;
export type BenchService = (typeof BENCH_SERVICES)[number];

export interface BenchImages {
  /** Per service: a tag private to this run, pointing at the image measured. */
  refs: Record<BenchService, string>;
  ids: Record<BenchService, string>;
  /** Where each image came from: reused `timekit/<s>:dev`, or built now. */
  source: Record<BenchService, "reused" | "built">;
  /** The semver this run's tags carry (a prerelease private to the run). */
  version: string;
}

/**
 * Tags `timekit/<s>:dev` (built first if missing) under a version private to this run, so other
 * engineers rebuilding `:dev` meanwhile do not change what is measured or deployed.
 */
export async function prepareImages(runId: string): Promise<BenchImages> {
  const version = `0.0.1-bench.${runId}`;
  const refs = {} as Record<BenchService, string>;
  const ids = {} as Record<BenchService, string>;
  const source = {} as Record<BenchService, "reused" | "built">;
  for (const service of BENCH_SERVICES) {
    const dev = `timekit/${service}:dev`;
    source[service] = "reused";
    if (!(await imageExists(dev))) {
      await step(`build ${dev} (lib/images/build.ts)`, () => buildImage({ service, tags: [dev] }));
      source[service] = "built";
    }
    const ref = `timekit/${service}:${version}`;
    const tagged = await docker(["tag", dev, ref]);
    if (tagged.code !== 0) throw new Error(`docker tag ${dev} ${ref}: ${tagged.stderr.trim()}`);
    refs[service] = ref;
    ids[service] = (await docker(["image", "inspect", "--format", "{{.Id}}", ref])).stdout.trim();
  }
  return { refs, ids, source, version };
}

/** Removes every tag this run created (`*-bench.<runId>*`), never the images others use. */
export async function removeBenchTags(runId: string): Promise<void> {
  const list = await docker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "timekit/*"]);
  const mine = list.stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((ref) => ref.includes(`-bench.${runId}`));
  if (mine.length === 0) return;
  const removed = await docker(["rmi", ...mine]);
  if (removed.code !== 0) note(`could not remove bench tags: ${removed.stderr.trim()}`);
}

export interface ImageSizeResult {
  measuredAt: string;
  bunBinaryBytes: number;
  bunVersion: string;
  compiledBinaryBytes: Record<BenchService, number>;
  images: Record<BenchService, { ref: string; id: string; source: string; bytes: number; gzipBytes: number }>;
}

export async function measureImageSizes(images: BenchImages): Promise<ImageSizeResult> {
  const result: ImageSizeResult = {
    measuredAt: new Date().toISOString(),
    bunBinaryBytes: statSync(realpathSync(process.execPath)).size,
    bunVersion: Bun.version,
    compiledBinaryBytes: {} as Record<BenchService, number>,
    images: {} as ImageSizeResult["images"],
  };
  for (const service of BENCH_SERVICES) {
    result.compiledBinaryBytes[service] = statSync(join(ROOT, "dist", service)).size;
    const ref = images.refs[service];
    const [bytes, gzipBytes] = await step(`size of ${ref} (docker save | gzip)`, async () => [
      await imageSize(ref),
      await gzippedImageSize(ref),
    ]);
    result.images[service] = { ref, id: images.ids[service], source: images.source[service], bytes, gzipBytes };
  }
  return result;
}
