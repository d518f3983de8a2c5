/**
 * Turns what BuildKit put into the engine into the image a commit always gives. Docker 20.10's
 * BuildKit stamps the build's own clock into the config (`created`, every history entry) and
 * COPY keeps the builder's file times, so two builds of one commit differ. Here the image is
 * saved, its layer rewritten (sorted, one mtime, numeric owners only: lib/images/image-files.ts), every
 * time set to the commit's (SOURCE_DATE_EPOCH), and the result loaded under the wanted tags
 * only. Same sources, same image id; the builder's intermediate image is removed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeployError } from "../errors";
import { inspectImage, loadImage, saveImage, untagImage } from "./docker";
import { normalizedConfig } from "./image-config";
import { type ImageFiles, normalizeLayer, readImageArchive, sha256, writeDockerArchive } from "./image-files";

export interface ReproducibleOptions {
  /** ISO time every timestamp of the image gets: the commit's (SOURCE_DATE_EPOCH). */
  created: string;
  /** Labels added to the config (e.g. the SBOM's digest). */
  labels?: Record<string, string>;
  /** The only tags the result gets. */
  tags: string[];
}

/** The image `raw` as files with every build-time variable fixed, written under `work`. */
export async function reproducibleFiles(raw: string, work: string, options: ReproducibleOptions): Promise<ImageFiles> {
  const saved = join(work, "saved.tar");
  await saveImage(raw, saved);
  const image = await readImageArchive(saved, join(work, "saved"));
  rmSync(saved, { force: true });
  const mtime = new Date(options.created);
  const layers: string[] = [];
  const diffIds: string[] = [];
  for (const [index, layer] of image.layers.entries()) {
    const out = join(work, `layer-${index}.tar`);
    diffIds.push(await normalizeLayer(layer, out, mtime));
    layers.push(out);
  }
  rmSync(join(work, "saved"), { recursive: true, force: true });
  const config = normalizedConfig(image.config, {
    created: options.created,
    diffIds,
    ...(options.labels ? { labels: options.labels } : {}),
  });
  return { config, layers };
}

/**
 * Replaces the engine's image `raw` (as BuildKit made it) by its reproducible form under
 * `options.tags`; returns the new image id (the sha256 of its config).
 */
export async function makeReproducible(raw: string, options: ReproducibleOptions): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "timekit-reproducible-"));
  try {
    const files = await reproducibleFiles(raw, work, options);
    const archive = join(work, "image.tar");
    await writeDockerArchive(archive, files, options.tags);
    const loaded = await inspectImage(await loadImage(archive));
    const id = loaded?.id ?? "nothing";
    const expected = sha256(files.config);
    if (id !== expected) throw new DeployError(`loaded the reproducible image as ${id}, expected ${expected}`);
    if (raw !== id) {
      // BuildKit's own copy: untagged (it was built without --tag), so removing it touches no tag.
      const rawInfo = await inspectImage(raw);
      if (rawInfo && rawInfo.repoTags.length === 0) await untagImage(raw);
    }
    return id;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
