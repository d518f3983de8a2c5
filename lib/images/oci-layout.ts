/**
 * Images as an OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
 * blobs by digest and an index.json naming them, which `skopeo copy --preserve-digests oci:…`
 * pushes byte for byte, so a registry's digest is the one computed here. Also the OCI 1.1
 * referrers an image carries (its SBOM and signed provenance), as `oras attach` writes them.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipFile, type ImageFiles, sha256 } from "./image-files";

export const MEDIA_TYPES = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
  empty: "application/vnd.oci.empty.v1+json",
  cyclonedx: "application/vnd.cyclonedx+json",
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Puts a blob into an OCI layout's blob store; returns its descriptor. */
function writeBlob(layout: string, mediaType: string, data: Buffer, artifactType?: string): Descriptor {
  const digest = sha256(data);
  const path = join(layout, "blobs", "sha256", digest.replace(/^sha256:/, ""));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  return { mediaType, digest, size: data.length, ...(artifactType ? { artifactType } : {}) };
}

export interface OciImage {
  layout: string;
  /** The manifest's descriptor: its digest is what a registry reports for the pushed image. */
  manifest: Descriptor;
  config: Descriptor;
}

/**
 * Writes `image` as an OCI image layout in `layout`, its manifest named `ref` in index.json:
 * `skopeo copy --preserve-digests oci:<layout>:<ref> docker://…` pushes exactly these bytes.
 */
export async function writeOciLayout(layout: string, image: ImageFiles, ref: string): Promise<OciImage> {
  mkdirSync(join(layout, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const config = writeBlob(layout, MEDIA_TYPES.config, image.config);
  const layers: Descriptor[] = [];
  for (const [index, layer] of image.layers.entries()) {
    const scratch = join(layout, `layer-${index}.tar.gz`);
    const { digest, size } = await gzipFile(layer, scratch);
    const path = join(layout, "blobs", "sha256", digest.replace(/^sha256:/, ""));
    await Bun.write(path, Bun.file(scratch));
    await Bun.file(scratch).delete();
    layers.push({ mediaType: MEDIA_TYPES.layer, digest, size });
  }
  const manifestBytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.manifest, config, layers }),
  );
  const manifest = writeBlob(layout, MEDIA_TYPES.manifest, manifestBytes);
  writeIndex(layout, [{ ...manifest, annotations: { "org.opencontainers.image.ref.name": ref } }]);
  return { layout, manifest, config };
}

/** index.json of a layout: the manifests it names (a ref name each). */
export function writeIndex(layout: string, manifests: Descriptor[]): void {
  writeFileSync(
    join(layout, "index.json"),
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests }),
  );
}

/**
 * An OCI artifact in `layout` that refers to `subject` (OCI 1.1 `subject`): one blob of
 * `artifactType` with an empty config, as `oras attach` writes it. Returns its manifest descriptor.
 */
export function writeReferrer(layout: string, subject: Descriptor, artifactType: string, blob: Buffer): Descriptor {
  const config = writeBlob(layout, MEDIA_TYPES.empty, Buffer.from("{}"));
  const layer = writeBlob(layout, artifactType, blob);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      artifactType,
      config,
      layers: [layer],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    }),
  );
  return writeBlob(layout, MEDIA_TYPES.manifest, manifest, artifactType);
}

/** The OCI 1.1 fallback tag under which a registry without the referrers API lists `digest`'s referrers. */
export const referrersTag = (digest: string) => digest.replace(":", "-");

/** An image index listing `referrers` (the content of the referrers fallback tag). */
export function writeReferrersIndex(layout: string, referrers: Descriptor[]): Descriptor {
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: referrers }));
  return writeBlob(layout, MEDIA_TYPES.index, index);
}
