/**
 * Images as files, byte for byte reproducible: read what `docker save` writes (or an archive of
 * ours), rewrite a layer with fixed times and owners in sorted order, and write the image again
 * as a Docker archive (what `docker load` reads); lib/images/oci-layout.ts writes it as an OCI
 * layout (what `skopeo copy oci:` pushes).
 *
 * The same config and layer bytes always give the same image id, archive and manifest digest:
 * tar entries are sorted with fixed mtime, uid/gid and no user names, JSON is written in one
 * key order, and gzip is zlib's at a fixed level with a zeroed header time (the same Bun, so the
 * same zlib, gives the same bytes).
 */
import { createReadStream, createWriteStream, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import { extract, type Header, pack } from "tar-stream";
import { configCreated } from "./image-config";

type Headers = Partial<Header> & Pick<Header, "name">;

/** The gzip level of every compressed layer and archive: one level, one output. */
const GZIP_LEVEL = 6;

/** An image as files: the config (its sha256 is the image id) and its layers, uncompressed tars. */
export interface ImageFiles {
  config: Buffer;
  layers: string[];
}

export const sha256 = (data: string | Uint8Array): string =>
  `sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`;

export async function sha256OfFile(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return `sha256:${hasher.digest("hex")}`;
}

const hex = (digest: string) => digest.replace(/^sha256:/, "");

async function isGzip(path: string): Promise<boolean> {
  const head = new Uint8Array(await Bun.file(path).slice(0, 2).arrayBuffer());
  return head[0] === 0x1f && head[1] === 0x8b;
}

/** A readable stream of the file, decompressed when it is gzip. */
async function openMaybeGzip(path: string): Promise<Readable> {
  const raw = createReadStream(path);
  return (await isGzip(path)) ? raw.pipe(createGunzip()) : raw;
}

/** Archive member names we accept: relative, no `..`, nothing but plain path characters. */
function safeMember(name: string): string | null {
  const clean = normalize(name.replace(/^\.\//, "")).replace(/\/$/, "");
  if (clean === "." || clean.startsWith("..") || clean.startsWith("/") || !/^[A-Za-z0-9._/:+-]+$/.test(clean))
    return null;
  return clean;
}

interface ArchiveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

export interface ReadArchive extends ImageFiles {
  /** The tags the archive asks `docker load` to apply (never applied by this project). */
  repoTags: string[];
}

/**
 * Reads a Docker archive (`docker save` output, plain or gzip; legacy or OCI-layout style) into
 * `work`: exactly one image, its config and its layer tars. Members with unsafe names, links
 * and devices are refused, so an archive cannot write outside `work`.
 */
export async function readImageArchive(file: string, work: string): Promise<ReadArchive> {
  mkdirSync(work, { recursive: true });
  const reader = extract();
  const source = await openMaybeGzip(file);
  source.on("error", (error) => reader.destroy(error));
  source.pipe(reader);
  for await (const entry of reader) {
    const { header } = entry;
    if (header.type === "directory") {
      entry.resume();
      continue;
    }
    const name = safeMember(header.name);
    if (header.type !== "file" || name === null) {
      entry.resume();
      throw new Error(`${file}: unexpected archive member ${JSON.stringify(header.name)} (${header.type})`);
    }
    const target = join(work, name);
    mkdirSync(dirname(target), { recursive: true });
    await pipeline(entry, createWriteStream(target));
  }
  let manifest: ArchiveManifestEntry[];
  try {
    manifest = JSON.parse(readFileSync(join(work, "manifest.json"), "utf8")) as ArchiveManifestEntry[];
  } catch (error) {
    throw new Error(`${file}: no readable manifest.json (${(error as Error).message}); not a Docker image archive`);
  }
  if (!Array.isArray(manifest) || manifest.length !== 1) {
    throw new Error(`${file}: holds ${Array.isArray(manifest) ? manifest.length : "no"} images; expected exactly one`);
  }
  const [image] = manifest as [ArchiveManifestEntry];
  const member = (name: string) => {
    const clean = safeMember(name);
    if (clean === null) throw new Error(`${file}: manifest.json names ${JSON.stringify(name)}`);
    return join(work, clean);
  };
  const layers: string[] = [];
  for (const [index, name] of image.Layers.entries()) {
    const path = member(name);
    if (await isGzip(path)) {
      const plain = join(work, `layer-${index}.tar`);
      await pipeline(createReadStream(path), createGunzip(), createWriteStream(plain));
      layers.push(plain);
    } else layers.push(path);
  }
  return { config: readFileSync(member(image.Config)), layers, repoTags: image.RepoTags ?? [] };
}

/**
 * Rewrites a layer tar with every entry sorted by name, owned by its numeric uid/gid only, with
 * one mtime, and only the header fields that matter (name, type, mode, size, link target).
 * Returns its diff id (the sha256 of the uncompressed tar).
 */
export async function normalizeLayer(input: string, output: string, mtime: Date): Promise<string> {
  const entries: Array<{ header: Headers; body: Buffer }> = [];
  const reader = extract();
  createReadStream(input).pipe(reader);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const { header } = entry;
    const name = header.name.replace(/^\.?\//, "").replace(/\/$/, "");
    if (name === "" || name === ".") continue;
    if (!["file", "directory", "symlink", "link"].includes(header.type ?? "file")) {
      throw new Error(`${input}: ${header.type} entry ${name} has no place in an image layer here`);
    }
    entries.push({
      header: {
        name: header.type === "directory" ? `${name}/` : name,
        type: header.type ?? "file",
        mode: (header.mode ?? 0o644) & 0o7777,
        uid: header.uid ?? 0,
        gid: header.gid ?? 0,
        uname: "",
        gname: "",
        mtime,
        size: header.type === "file" ? (header.size ?? 0) : 0,
        ...(header.linkname ? { linkname: header.linkname } : {}),
      },
      body: Buffer.concat(chunks),
    });
  }
  entries.sort((a, b) => (a.header.name < b.header.name ? -1 : a.header.name > b.header.name ? 1 : 0));
  const packer = pack();
  const written = pipeline(packer, createWriteStream(output));
  for (const { header, body } of entries) {
    await new Promise<void>((resolve, reject) =>
      packer.entry(header, body, (error) => (error ? reject(error) : resolve())),
    );
  }
  packer.finalize();
  await written;
  return sha256OfFile(output);
}

function addEntry(packer: ReturnType<typeof pack>, header: Headers, body: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = packer.entry(header, (error) => (error ? reject(error) : resolve()));
    if (typeof body === "string") createReadStream(body).pipe(stream);
    else stream.end(body);
  });
}

/**
 * Writes `image` as a Docker archive (uncompressed) that `docker load` reads: the config, each
 * layer as `<diff id>/layer.tar`, and a manifest.json asking for exactly `repoTags`.
 */
export async function writeDockerArchive(out: string, image: ImageFiles, repoTags: string[]): Promise<void> {
  const mtime = configCreated(image.config);
  const header = (name: string, size: number): Headers => ({
    name,
    size,
    mode: 0o644,
    uid: 0,
    gid: 0,
    uname: "",
    gname: "",
    mtime,
  });
  const configName = `${hex(sha256(image.config))}.json`;
  const layerNames: string[] = [];
  const packer = pack();
  const written = pipeline(packer, createWriteStream(out));
  await addEntry(packer, header(configName, image.config.length), image.config);
  for (const layer of image.layers) {
    const name = `${hex(await sha256OfFile(layer))}/layer.tar`;
    layerNames.push(name);
    await addEntry(packer, header(name, statSync(layer).size), layer);
  }
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: repoTags, Layers: layerNames }]));
  await addEntry(packer, header("manifest.json", manifest.length), manifest);
  packer.finalize();
  await written;
}

/** Compresses `input` into `output` with the one gzip setting; returns the output's digest and size. */
export async function gzipFile(input: string, output: string): Promise<{ digest: string; size: number }> {
  await pipeline(createReadStream(input), createGzip({ level: GZIP_LEVEL }), createWriteStream(output));
  return { digest: await sha256OfFile(output), size: statSync(output).size };
}
