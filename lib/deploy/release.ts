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
import { type BuiltImage, buildImage } from "../docker/images";
import { inspectImage, run } from "./docker";
import { DeployError, ExitCode, UsageError } from "./errors";
import { fromDockerError } from "./images";
import type { ServiceName } from "./params";
import { LOCAL_REPO } from "./plan";
import { listTags, remoteManifest, tagDigest } from "./registry";
import { serviceSbom } from "./sbom";
import { PROJECT_ROOT } from "./state";

/** The floating tag `promote` moves, and the prefix of its per-version record. */
export const KNOWN_GOOD = "known-good";

/** A release version: strict semver, a leading `v` allowed. */
export function parseReleaseVersion(flag: string, raw: string): string {
  const bare = raw.replace(/^v/i, "");
  if (semver.valid(bare) !== bare) {
    throw new UsageError(
      `--${flag}=${JSON.stringify(raw)} is not a release version; use X.Y.Z or X.Y.Z-pre.N (e.g. 1.4.0, 1.4.0-rc.1)`,
    );
  }
  return bare;
}

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

export const localRef = (service: ServiceName, tag: string) => `${LOCAL_REPO}/${service}:${tag}`;

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
  const tail: string[] = [];
  let built: BuiltImage;
  try {
    // dev builds get `dev` and the sha tag; the commit is known only after metadata is read.
    built = await buildImage({
      service,
      version: version ?? "dev",
      tags: [localRef(service, version ?? "dev")],
      onProgress: (line) => {
        tail.push(line);
        if (tail.length > 30) tail.shift();
        if (/cannot import or export a BuildKit cache/.test(line)) note(line);
      },
    });
  } catch (error) {
    throw fromDockerError(error);
  }
  const tags = version ? releaseTags(version, built.commit) : [localRef(service, "dev"), shaTag(built.commit)];
  const refs = tags.filter((t): t is string => t !== null).map((t) => (t.includes("/") ? t : localRef(service, t)));
  for (const ref of refs) {
    const out = await run(["docker", "tag", built.id, ref]);
    if (out.exitCode !== 0) throw new DeployError(`cannot tag ${built.id} as ${ref}: ${out.stderr.trim()}`);
  }
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

async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** Floating tags (`X.Y`, `X`) move only when this version is the highest of their line. */
function floatingAllowed(tag: string, version: string, published: string[]): boolean {
  const line = tag.split(".").length === 2 ? `${tag}.x` : `${tag}.x.x`;
  const higher = published.filter((t) => semver.valid(t) === t && semver.satisfies(t, line) && semver.gt(t, version));
  return higher.length === 0;
}

async function pushTag(local: string, remote: string): Promise<string> {
  let out = await run(["docker", "tag", local, remote]);
  if (out.exitCode !== 0) throw new DeployError(`cannot tag ${local} as ${remote}: ${out.stderr.trim()}`);
  out = await run(["docker", "push", remote], { timeoutMs: 600_000 });
  await run(["docker", "image", "rm", remote]);
  if (out.exitCode !== 0) {
    const detail = `${out.stderr}${out.stdout}`.trim().split("\n").pop() ?? "";
    throw new DeployError(
      `pushing ${remote} failed: ${detail}`,
      ExitCode.failed,
      /denied|unauthorized|authentication/i.test(detail)
        ? `log in first: docker login ${remote.split("/")[0]}`
        : "check that the registry runs and is reachable",
    );
  }
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(out.stdout)?.[1];
  if (!digest) throw new DeployError(`pushed ${remote} but docker reported no digest`);
  return digest;
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
    const saved = await run(["docker", "save", "-o", tar, ref], { timeoutMs: 600_000 });
    if (saved.exitCode !== 0) throw new DeployError(`docker save ${ref} failed: ${saved.stderr.trim()}`);
    await pipeline(createReadStream(tar), createGzip({ level: 6 }), createWriteStream(gz));
    const sha256 = await sha256File(gz);
    const created = info.labels["org.opencontainers.image.created"] ?? "";
    const meta: ArchiveMeta = { service, version, image: ref, id: info.id, commit, created, sha256 };
    await writeFile(
      sbomFile,
      `${JSON.stringify(serviceSbom(PROJECT_ROOT, service, { version, commit, created: created || new Date().toISOString() }), null, 2)}\n`,
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
