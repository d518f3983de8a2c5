/**
 * `promote`: the last step of a release that passed its tests and integration. In the registry it
 * copies the published manifest, by digest, to `<registry>/known-good/<service>` (`latest` and
 * `X.Y.Z`) and moves the floating tags `X.Y` and `X` of the release repository while this is
 * the highest version of their line. In an archive directory it writes the signed known-good
 * record naming this version's archive. Nothing is rebuilt or re-pushed; promoting again is a
 * no-op, and known-good never moves back to a lower version (a re-run of an old release after a
 * newer one leaves it where it is).
 */
import { createPublicKey } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import semver from "semver";
import { DeployError, ExitCode } from "../errors";
import type { ServiceName } from "../services";
import { type ArchiveTrust, verifiedArchive } from "./archive";
import { knownGoodRecord } from "./archive-paths";
import { knownGoodStatement, knownGoodVersion } from "./provenance";
import { KNOWN_GOOD_TAG, knownGoodRepository, listTags, remoteLabels, remoteManifest, tagDigest } from "./registry";
import { floatingTags } from "./release";
import { type SigningKey, signStatement, type TrustedKey, verifyEnvelope } from "./signing";

export interface PromoteOptions {
  service: ServiceName;
  version: string;
  registry?: string | undefined;
  archiveDir?: string | undefined;
  key?: SigningKey;
  /** Trusted keys for the archive's own signature (the signing key's public half is added). */
  keyDirs: string[];
  note: (line: string) => void;
}

export interface PromoteResult {
  service: ServiceName;
  version: string;
  registry?: {
    repository: string;
    digest: string;
    /** Floating tags of the release repository moved now. */
    tags: string[];
    /** The known-good references that name the digest. */
    knownGood: string[];
  };
  archive?: { record: string; archive: string; sha256: string };
}

/** A floating tag moves only when `version` is the highest published version of its line. */
function floatingAllowed(tag: string, version: string, published: string[]): boolean {
  const line = tag.split(".").length === 2 ? `${tag}.x` : `${tag}.x.x`;
  return !published.some((t) => semver.valid(t) === t && semver.satisfies(t, line) && semver.gt(t, version));
}

async function promoteRegistry(
  options: PromoteOptions,
  registry: string,
): Promise<NonNullable<PromoteResult["registry"]>> {
  const { service, version, note } = options;
  const repository = `${registry}/${service}`;
  const manifest = await remoteManifest(repository, version);
  if (!manifest) {
    throw new DeployError(
      `${repository}:${version} is not in the registry`,
      ExitCode.failed,
      `publish it first: bun deploy.ts publish --service=${service} --version=${version} --registry=${registry}`,
    );
  }
  const published = await listTags(repository);
  const tags: string[] = [];
  for (const tag of floatingTags(version)) {
    if (!floatingAllowed(tag, version, published)) {
      note(`${repository}:${tag} stays: a higher ${tag}.* version is published`);
      continue;
    }
    if ((await remoteManifest(repository, tag))?.digest === manifest.digest) continue;
    await tagDigest(repository, manifest.digest, tag);
    tags.push(tag);
  }
  const knownGood = knownGoodRepository(registry, service);
  const current = (await remoteLabels(knownGood, KNOWN_GOOD_TAG))?.["org.opencontainers.image.version"];
  const newer = current && semver.valid(current) && semver.gt(current, version) ? current : null;
  if (newer) note(`${knownGood}:${KNOWN_GOOD_TAG} stays at ${newer}, newer than ${version}`);
  const names = newer ? [version] : [version, KNOWN_GOOD_TAG];
  for (const tag of names) {
    if ((await remoteManifest(knownGood, tag))?.digest !== manifest.digest) {
      await tagDigest(repository, manifest.digest, tag, knownGood);
    }
  }
  return { repository, digest: manifest.digest, tags, knownGood: names.map((tag) => `${knownGood}:${tag}`) };
}

/** The version an existing record names, if this key signed it (anything else is overwritten). */
function recordedVersion(record: string, key: TrustedKey, service: ServiceName): string | null {
  try {
    const read = verifyEnvelope(readFileSync(record, "utf8"), [key], record);
    const named = read.kind === "trusted" ? knownGoodVersion(read.statement, service) : null;
    return named && typeof named !== "string" ? named.version : null;
  } catch {
    return null;
  }
}

async function promoteArchive(options: PromoteOptions, dir: string): Promise<NonNullable<PromoteResult["archive"]>> {
  const { service, version, key, note } = options;
  if (!key) throw new Error("promoteArchive needs the signing key");
  // Only an archive whose provenance a trusted key (this one included) signed becomes known-good.
  const own = { keyid: key.keyid, publicKey: createPublicKey(key.privateKey), file: key.source };
  const trust: ArchiveTrust = { keyDirs: options.keyDirs, extraKeys: [own], allowUntrusted: false };
  const archive = await verifiedArchive(dir, service, version, trust, note);
  const statement = knownGoodStatement(service, version, {
    name: basename(archive.file),
    digest: { sha256: archive.sha256 },
  });
  const record = knownGoodRecord(dir, service);
  const current = existsSync(record) ? recordedVersion(record, own, service) : null;
  if (current && semver.gt(current, version)) {
    note(`${record} stays at ${current}, newer than ${version}`);
  } else await Bun.write(record, `${JSON.stringify(signStatement(statement, key))}\n`);
  return { record, archive: archive.file, sha256: archive.sha256 };
}

export async function promote(options: PromoteOptions): Promise<PromoteResult> {
  const result: PromoteResult = { service: options.service, version: options.version };
  // The archive first: it is checked locally, so a bad archive stops the promotion before the registry moves.
  if (options.archiveDir) result.archive = await promoteArchive(options, options.archiveDir);
  if (options.registry) result.registry = await promoteRegistry(options, options.registry);
  return result;
}
