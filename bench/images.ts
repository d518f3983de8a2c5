/** The service images the bench measures and deploys, and their sizes against the Bun runtime. */
import { realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildImage } from "../lib/images/build";
import { docker, gzippedImageSize, imageSize } from "./docker";
import { note, step } from "./progress";
import { ROOT } from "./throughput";

export const BENCH_SERVICES = ["service1", "service2"] as const;
export type BenchService = (typeof BENCH_SERVICES)[number];

export interface BenchImages {
  /** Per service: a tag private to this run, pointing at the image measured. */
  refs: Record<BenchService, string>;
  ids: Record<BenchService, string>;
  /** The semver this run's tags carry (a prerelease private to the run). */
  version: string;
}

/**
 * Builds both images from this checkout under a tag private to the run, so the figures are this
 * tree's (a reused `:dev` may be another checkout's) and nobody else's rebuild changes what is
 * measured or deployed. Docker's layer cache makes an unchanged tree's build quick.
 */
export async function prepareImages(runId: string): Promise<BenchImages> {
  const version = `0.0.1-bench.${runId}`;
  const refs = {} as Record<BenchService, string>;
  const ids = {} as Record<BenchService, string>;
  for (const service of BENCH_SERVICES) {
    const ref = `timekit/${service}:${version}`;
    await step(`build ${ref} from this checkout (lib/images/build.ts)`, () => buildImage({ service, tags: [ref] }));
    refs[service] = ref;
    ids[service] = (await docker(["image", "inspect", "--format", "{{.Id}}", ref])).stdout.trim();
  }
  return { refs, ids, version };
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
  images: Record<BenchService, { ref: string; id: string; bytes: number; gzipBytes: number }>;
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
    result.images[service] = { ref, id: images.ids[service], bytes, gzipBytes };
  }
  return result;
}
