/**
 * Images as files (lib/images/image-files.ts, image-config.ts, oci-layout.ts), on synthetic
 * layers and configs, no Docker: the same content always gives the same bytes and digests,
 * whatever order, times and owner names it arrived with; hostile archives are refused.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { type Header, pack } from "tar-stream";
import { configCreated, configLabels, normalizedConfig } from "../../lib/images/image-config";
import {
  gzipFile,
  normalizeLayer,
  readImageArchive,
  sha256,
  sha256OfFile,
  writeDockerArchive,
} from "../../lib/images/image-files";
import {
  MEDIA_TYPES,
  referrersTag,
  writeOciLayout,
  writeReferrer,
  writeReferrersIndex,
} from "../../lib/images/oci-layout";
import { listTar } from "../support/tar";

const work = mkdtempSync(join(tmpdir(), "timekit-image-files-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let files = 0;
const path = (name: string) => join(work, `${++files}-${name}`);

type Entry = Partial<Header> & { name: string; body?: string };

/** A tar of `entries` in the given order, optionally gzip. */
async function tarOf(entries: Entry[], gzip = false): Promise<string> {
  const out = path(gzip ? "x.tar.gz" : "x.tar");
  const packer = pack();
  const written = gzip
    ? pipeline(packer, createGzip(), createWriteStream(out))
    : pipeline(packer, createWriteStream(out));
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) =>
      packer.entry(header, body ?? "", (error) => (error ? reject(error) : resolve())),
    );
  }
  packer.finalize();
  await written;
  return out;
}

const LAYER: Entry[] = [
  { name: "usr/", type: "directory", mode: 0o755 },
  { name: "usr/local/bin/service", body: "#binary", mode: 0o555 },
  { name: "tmp/", type: "directory", mode: 0o1777 },
  { name: "etc/passwd", body: "root:x:0:0::/:\n", mode: 0o444 },
  { name: "lib64/ld.so", type: "symlink", linkname: "../lib/ld.so", mode: 0o777 },
];

const CONFIG = Buffer.from(
  JSON.stringify({
    architecture: "amd64",
    config: {
      User: "65532:65532",
      Labels: { "org.opencontainers.image.version": "1.2.3", "io.timekit.service": "service1" },
    },
    created: "2026-11-29T19:13:53.562707015Z",
    history: [{ created: "2026-11-29T19:13:53.562707015Z", created_by: "COPY /rootfs/ / # buildkit" }],
    os: "linux",
    rootfs: { type: "layers", diff_ids: ["sha256:old"] },
  }),
);

describe("normalizeLayer", () => {
  test("the same files in another order, with other times and owner names, give the same bytes", async () => {
    const first = await tarOf(LAYER.map((e) => ({ ...e, mtime: new Date(1_700_000_000_000), uname: "alice" })));
    const second = await tarOf(
      [...LAYER].reverse().map((e) => ({ ...e, mtime: new Date(1_800_000_000_000), uname: "bob", gname: "staff" })),
    );
    const mtime = new Date("2024-01-01T00:00:00Z");
    const [a, b] = [path("a.tar"), path("b.tar")];
    const diffA = await normalizeLayer(first, a, mtime);
    const diffB = await normalizeLayer(second, b, mtime);
    expect(diffA).toBe(diffB);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(diffA).toBe(await sha256OfFile(a));
    // A different time is a different layer: the time is part of what is fixed, not ignored.
    expect(await normalizeLayer(first, path("c.tar"), new Date("2025-01-01T00:00:00Z"))).not.toBe(diffA);
  });

  test("keeps names, types, modes (sticky bit too) and link targets; sorts; drops owner names", async () => {
    const out = path("n.tar");
    await normalizeLayer(await tarOf(LAYER), out, new Date(0));
    const entries = await listTar(Bun.file(out).stream());
    expect(entries.map((e) => [e.path, e.type, e.mode.toString(8), e.linkTarget])).toEqual([
      ["/etc/passwd", "file", "444", ""],
      ["/lib64/ld.so", "symlink", "777", "../lib/ld.so"],
      ["/tmp", "dir", "1777", ""],
      ["/usr", "dir", "755", ""],
      ["/usr/local/bin/service", "file", "555", ""],
    ]);
    expect(new Set(entries.map((e) => `${e.uid}:${e.gid}`))).toEqual(new Set(["0:0"]));
  });

  test("a device in a layer is refused, naming it", async () => {
    const device = await tarOf([{ name: "dev/null", type: "character-device", devmajor: 1, devminor: 3 }]);
    await expect(normalizeLayer(device, path("d.tar"), new Date(0))).rejects.toThrow(
      "character-device entry dev/null has no place in an image layer",
    );
  });
});

describe("image config", () => {
  test("every creation time becomes the commit's, layers are replaced, labels added in order", () => {
    const config = normalizedConfig(CONFIG, {
      created: "2024-01-01T00:00:00.000Z",
      diffIds: ["sha256:new"],
      labels: { "io.timekit.sbom.digest": "sha256:abc" },
    });
    const parsed = JSON.parse(config.toString());
    expect(parsed.created).toBe("2024-01-01T00:00:00.000Z");
    expect(parsed.history.map((h: { created: string }) => h.created)).toEqual(["2024-01-01T00:00:00.000Z"]);
    expect(parsed.rootfs).toEqual({ type: "layers", diff_ids: ["sha256:new"] });
    expect(Object.keys(configLabels(config))).toEqual([
      "io.timekit.sbom.digest",
      "io.timekit.service",
      "org.opencontainers.image.version",
    ]);
    expect(configCreated(config).toISOString()).toBe("2024-01-01T00:00:00.000Z");
    // Same input, same bytes: the image id is a function of the content.
    const again = normalizedConfig(CONFIG, {
      created: "2024-01-01T00:00:00.000Z",
      diffIds: ["sha256:new"],
      labels: { "io.timekit.sbom.digest": "sha256:abc" },
    });
    expect(sha256(again)).toBe(sha256(config));
  });
});

describe("Docker archives", () => {
  const image = async () => {
    const layer = path("layer.tar");
    const diff = await normalizeLayer(await tarOf(LAYER), layer, new Date(0));
    return {
      config: normalizedConfig(CONFIG, { created: "2024-01-01T00:00:00.000Z", diffIds: [diff] }),
      layers: [layer],
    };
  };

  test("written twice, the same bytes; read back (plain or gzip), the same image and only the tags asked for", async () => {
    const files = await image();
    const [a, b] = [path("a.tar"), path("b.tar")];
    await writeDockerArchive(a, files, ["timekit/service1:1.2.3"]);
    await writeDockerArchive(b, files, ["timekit/service1:1.2.3"]);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const gz = path("a.tar.gz");
    const first = await gzipFile(a, gz);
    expect((await gzipFile(a, path("again.tar.gz"))).digest).toBe(first.digest);
    for (const file of [a, gz]) {
      const read = await readImageArchive(file, path("read"));
      expect(sha256(read.config)).toBe(sha256(files.config));
      expect(read.repoTags).toEqual(["timekit/service1:1.2.3"]);
      expect(await sha256OfFile(read.layers[0] as string)).toBe(await sha256OfFile(files.layers[0] as string));
    }
  });

  test("a member that would land outside the work directory is refused", async () => {
    const evil = await tarOf([{ name: "../../etc/cron.d/x", body: "* * * * * root true\n" }]);
    const into = path("evil");
    await expect(readImageArchive(evil, into)).rejects.toThrow('unexpected archive member "../../etc/cron.d/x"');
    expect(existsSync(join(into, "..", "..", "etc", "cron.d", "x"))).toBe(false);
  });

  test("an archive of two images, or of none, is refused", async () => {
    const two = await tarOf([
      {
        name: "manifest.json",
        body: JSON.stringify([
          { Config: "a.json", Layers: [] },
          { Config: "b.json", Layers: [] },
        ]),
      },
    ]);
    await expect(readImageArchive(two, path("two"))).rejects.toThrow("holds 2 images; expected exactly one");
    const none = await tarOf([{ name: "hello.txt", body: "hi" }]);
    await expect(readImageArchive(none, path("none"))).rejects.toThrow("no readable manifest.json");
  });
});

describe("OCI layouts", () => {
  test("the manifest digest is a function of the image; the referrers name it as their subject", async () => {
    const layer = path("layer.tar");
    const diff = await normalizeLayer(await tarOf(LAYER), layer, new Date(0));
    const files = {
      config: normalizedConfig(CONFIG, { created: "2024-01-01T00:00:00.000Z", diffIds: [diff] }),
      layers: [layer],
    };
    const one = await writeOciLayout(path("oci"), files, "1.2.3");
    const two = await writeOciLayout(path("oci"), files, "1.2.3");
    expect(one.manifest.digest).toBe(two.manifest.digest);
    expect(one.config.digest).toBe(sha256(files.config));
    const manifest = JSON.parse(
      readFileSync(join(one.layout, "blobs", "sha256", one.manifest.digest.slice(7)), "utf8"),
    );
    expect(manifest.layers[0].mediaType).toBe(MEDIA_TYPES.layer);
    expect(sha256(readFileSync(join(one.layout, "blobs", "sha256", one.manifest.digest.slice(7))))).toBe(
      one.manifest.digest,
    );
    const index = JSON.parse(readFileSync(join(one.layout, "index.json"), "utf8"));
    expect(index.manifests[0].annotations["org.opencontainers.image.ref.name"]).toBe("1.2.3");

    const sbom = writeReferrer(one.layout, one.manifest, MEDIA_TYPES.cyclonedx, Buffer.from("{}"));
    const artifact = JSON.parse(readFileSync(join(one.layout, "blobs", "sha256", sbom.digest.slice(7)), "utf8"));
    expect(artifact.subject).toEqual({
      mediaType: MEDIA_TYPES.manifest,
      digest: one.manifest.digest,
      size: one.manifest.size,
    });
    expect(artifact.artifactType).toBe(MEDIA_TYPES.cyclonedx);
    const list = writeReferrersIndex(one.layout, [sbom]);
    expect(list.mediaType).toBe(MEDIA_TYPES.index);
    expect(referrersTag(one.manifest.digest)).toBe(one.manifest.digest.replace("sha256:", "sha256-"));
  });
});
