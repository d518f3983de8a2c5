/**
 * The release half of the CLI: `build` (release images with their tags and OCI labels),
 * `publish` (to a registry and/or as checksummed archives, immutable per version) and `promote`
 * (mark a tested image known-good by digest). Each works on one service, so releasing one
 * never touches the other's tags.
 *
 * Tags of a release X.Y.Z: `X.Y.Z`, `X.Y`, `X` (only for a stable version, and in a registry only
 * while it is the highest of its line) and `sha-<commit>`. There is no `latest`: a per-service
 * version stream has no meaningful one; deploys name a version or `known-good`.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import semver from "semver";
import { DeployError, ExitCode } from "../errors";
import { REPO_ROOT } from "../paths";
import type { ServiceName } from "../services";
import { buildImage } from "./build";
import { inspectImage, pushImage, saveImage, tagImage, untagImage } from "./docker";
import { KNOWN_GOOD, LOCAL_REPOSITORY, listTags, remoteManifest, tagDigest } from "./registry";
import { sha256File } from "./resolve";
import { serviceSbom } from "./sbom";

/** `sha-<7 hex>` from a commit, or null for an unknown or uncommitted (`-dirty`) tree. */
export function shaTag(commit: string): string | null {
  return /^[0-9a-f]{7,40}$/.test(commit) ? `sha-${commit.slice(0, 7)}` : null;
}

/** Every tag a release gets (locally; `publish` may hold back floating ones). */
export function releaseTags(version: string, commit: string): string[] {
  const tags = [version];
  if (semver.prerelease(version) === null) {
    tags.push(`${semver.major(version)}.${semver.minor(version)}`, `${semver.major(version)}`);
  }
  const sha = shaTag(commit);
  if (sha) tags.push(sha);
  return tags;
}

export const localRef = (service: ServiceName, tag: string) => `${LOCAL_REPOSITORY}/${service}:${tag}`;

export interface BuildResult {
  service: ServiceName;
  version: string;
  id: string;
  commit: string;
  tags: string[];
  labels: Record<string, string>;
}

export async function buildRelease(
  service: ServiceName,
  version: string | undefined,
  note: (line: string) => void,
): Promise<BuildResult> {
  // dev builds get `dev` and the sha tag; the commit is known only after metadata is read.
  const built = await buildImage({
    service,
    version: version ?? "dev",
    tags: [localRef(service, version ?? "dev")],
    onProgress: (line) => {
      if (/cannot import or export a BuildKit cache/.test(line)) note(line);
    },
  });
  const tags = version ? releaseTags(version, built.commit) : [localRef(service, "dev"), shaTag(built.commit)];
  const refs = tags.filter((t): t is string => t !== null).map((t) => (t.includes("/") ? t : localRef(service, t)));
  for (const ref of refs) await tagImage(built.id, ref);
  if (!shaTag(built.commit)) note(`no sha-<commit> tag: the build's commit is ${built.commit} (uncommitted changes)`);
  return { service, version: built.version, id: built.id, commit: built.commit, tags: refs, labels: built.labels };
}

/** The local image of a release, which `build` made; fails with the fix when it is missing. */
async function localRelease(service: ServiceName, version: string) {
  const ref = localRef(service, version);
  const info = await inspectImage(ref);
  if (!info) {
    throw new DeployError(
      `${ref} is not in the local engine`,
      ExitCode.failed,
      `build it first: bun deploy.ts build --service=${service} --version=${version}`,
    );
  }
  const labelled = info.labels["org.opencontainers.image.version"];
  if (labelled !== undefined && labelled !== version) {
    throw new DeployError(
      `${ref} is labelled version ${labelled}, not ${version}: it was tagged by hand, not built for this version`,
      ExitCode.failed,
      `rebuild it: bun deploy.ts build --service=${service} --version=${version}`,
    );
  }
  return { ref, info, commit: info.labels["org.opencontainers.image.revision"] ?? "unknown" };
}

export interface PublishResult {
  service: ServiceName;
  version: string;
  id: string;
  registry?: { repository: string; digest: string; tags: string[]; unchanged: boolean };
  archive?: { file: string; sha256: string; sbom: string; unchanged: boolean };
}

/** Floating tags (`X.Y`, `X`) move only when this version is the highest of their line. */
function floatingAllowed(tag: string, version: string, published: string[]): boolean {
  const line = tag.split(".").length === 2 ? `${tag}.x` : `${tag}.x.x`;
  const higher = published.filter((t) => semver.valid(t) === t && semver.satisfies(t, line) && semver.gt(t, version));
  return higher.length === 0;
}

/** Pushes the local image under the remote name, leaving no remote-named tag behind locally. */
async function pushTag(local: string, remote: string): Promise<string> {
  await tagImage(local, remote);
  try {
    return await pushImage(remote);
  } finally {
    await untagImage(remote);
  }
}

export async function publishRegistry(
  service: ServiceName,
  version: string,
  registry: string,
  note: (line: string) => void,
): Promise<NonNullable<PublishResult["registry"]>> {
  const { ref, info, commit } = await localRelease(service, version);
  const repository = `${registry}/${service}`;
  const existing = await remoteManifest(repository, version);
  if (existing && existing.configDigest !== info.id) {
    throw new DeployError(
      `${repository}:${version} is already published with different content (image ${existing.configDigest}, local ${info.id})`,
      ExitCode.failed,
      "a published version never changes: release a new version (bun deploy.ts version --service=... --write)",
    );
  }
  const published = await listTags(repository);
  const tags: string[] = [];
  let digest = existing?.digest ?? "";
  if (!existing) {
    digest = await pushTag(ref, `${repository}:${version}`);
    tags.push(version);
  } else note(`${repository}:${version} already holds this image (${existing.digest}); not pushed again`);
  for (const tag of releaseTags(version, commit).slice(1)) {
    if (/^\d+(\.\d+)?$/.test(tag) && !floatingAllowed(tag, version, published)) {
      note(`${repository}:${tag} stays: a higher ${tag}.* version is published`);
      continue;
    }
    const current = await remoteManifest(repository, tag);
    if (current?.digest === digest) continue;
    await tagDigest(repository, digest, tag);
    tags.push(tag);
  }
  return { repository, digest, tags, unchanged: existing !== null };
}

export interface ArchiveMeta {
  service: ServiceName;
  version: string;
  image: string;
  id: string;
  commit: string;
  created: string;
  sha256: string;
}

export const archiveName = (service: ServiceName, version: string) => `${service}-${version}.tar.gz`;

export async function publishArchive(
  service: ServiceName,
  version: string,
  dir: string,
  note: (line: string) => void,
): Promise<NonNullable<PublishResult["archive"]>> {
  const { ref, info, commit } = await localRelease(service, version);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, archiveName(service, version));
  const sumFile = `${file}.sha256`;
  const metaFile = join(dir, `${service}-${version}.json`);
  const sbomFile = join(dir, `${service}-${version}.cdx.json`);
  if (existsSync(file)) {
    const meta = existsSync(metaFile) ? (JSON.parse(readFileSync(metaFile, "utf8")) as ArchiveMeta) : null;
    if (!meta || meta.id !== info.id) {
      throw new DeployError(
        `${file} is already published with ${meta ? `different content (image ${meta.id}, local ${info.id})` : "no metadata to compare"}`,
        ExitCode.failed,
        "a published version never changes: release a new version instead",
      );
    }
    const actual = await sha256File(file);
    if (actual !== meta.sha256) {
      throw new DeployError(
        `${file} does not match its recorded checksum (${actual} vs ${meta.sha256})`,
        ExitCode.failed,
        `the archive is corrupt: delete ${file} and publish again`,
      );
    }
    note(`${file} already holds this image; not written again`);
    return { file, sha256: actual, sbom: sbomFile, unchanged: true };
  }
  // Written under temporary names and renamed, so a half-written archive is never published.
  const tar = `${file}.tmp.tar`;
  const gz = `${file}.tmp`;
  try {
    await saveImage(ref, tar);
    await pipeline(createReadStream(tar), createGzip({ level: 6 }), createWriteStream(gz));
    const sha256 = await sha256File(gz);
    const created = info.labels["org.opencontainers.image.created"] ?? "";
    const meta: ArchiveMeta = { service, version, image: ref, id: info.id, commit, created, sha256 };
    await writeFile(
      sbomFile,
      `${JSON.stringify(serviceSbom(REPO_ROOT, service, { version, commit, created: created || new Date().toISOString() }), null, 2)}\n`,
    );
    await writeFile(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
    await writeFile(sumFile, `${sha256}  ${archiveName(service, version)}\n`);
    renameSync(gz, file);
    return { file, sha256, sbom: sbomFile, unchanged: false };
  } finally {
    await rm(tar, { force: true });
    rmSync(gz, { force: true });
  }
}

export interface PromoteResult {
  service: ServiceName;
  version: string;
  repository: string;
  digest: string;
  tags: string[];
}

/** Marks `registry/service:version` known-good by digest: `known-good` and `known-good-X.Y.Z`. */
export async function promote(service: ServiceName, version: string, registry: string): Promise<PromoteResult> {
  const repository = `${registry}/${service}`;
  const manifest = await remoteManifest(repository, version);
  if (!manifest) {
    throw new DeployError(
      `${repository}:${version} is not in the registry`,
      ExitCode.failed,
      `publish it first: bun deploy.ts publish --service=${service} --version=${version} --registry=${registry}`,
    );
  }
  const tags = [`${KNOWN_GOOD}-${version}`, KNOWN_GOOD];
  for (const tag of tags) await tagDigest(repository, manifest.digest, tag);
  return { service, version, repository, digest: manifest.digest, tags };
}
