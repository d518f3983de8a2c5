/**
 * `publish`, per service (releasing one never touches the other's tags): the image `build` made
 * (lib/images/release.ts), byte for byte, to a registry and/or as a signed archive; a version
 * never changes. `promote` (lib/images/promote.ts) then marks it known-good and moves the
 * floating tags.
 *
 * What `publish` pushes is the image `build` made, read back with `docker save` (the engine
 * returns a layer byte for byte) and written as an OCI layout with fixed compression
 * (lib/images/oci-layout.ts): the registry's manifest digest is computed here, and publishing
 * the same build again finds it there and pushes nothing. Beside the image go its SBOM and
 * its signed provenance (lib/images/provenance.ts), as OCI referrers in the registry and as
 * files beside the archive.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { DeployError, ExitCode } from "../errors";
import { run } from "../exec";
import { REPO_ROOT } from "../paths";
import type { ServiceName } from "../services";
import { writeArchive, writeArchiveCompanions } from "./archive";
import { type ImageInfo, saveImage } from "./docker";
import { type ImageFiles, readImageArchive, sha256 } from "./image-files";
import {
  type Descriptor,
  MEDIA_TYPES,
  referrersTag,
  writeIndex,
  writeOciLayout,
  writeReferrer,
  writeReferrersIndex,
} from "./oci-layout";
import { provenanceStatement } from "./provenance";
import { pushLayout, remoteLabels, remoteManifest, tagDigest } from "./registry";
import { localRelease, releaseTags } from "./release";
import { SBOM_LABEL, sbomBytes } from "./sbom";
import { type SigningKey, signStatement } from "./signing";

/** The local image as files (`docker save`), checked to be the same config the engine holds. */
async function savedFiles(ref: string, info: ImageInfo, work: string): Promise<ImageFiles> {
  const file = join(work, "saved.tar");
  await saveImage(ref, file);
  const saved = await readImageArchive(file, join(work, "saved"));
  rmSync(file, { force: true });
  if (sha256(saved.config) !== info.id) {
    throw new DeployError(`docker save of ${ref} gave config ${sha256(saved.config)}, not its id ${info.id}`);
  }
  return saved;
}

/** The full commit a revision label names, when this checkout has it (provenance wants all 40 digits). */
async function fullCommit(revision: string): Promise<string> {
  if (!/^[0-9a-f]{7,40}$/.test(revision)) return revision;
  const out = await run(["git", "-C", REPO_ROOT, "rev-parse", "--verify", "--quiet", `${revision}^{commit}`], {
    timeoutMs: 30_000,
  });
  return out.exitCode === 0 ? out.stdout.trim() : revision;
}

export interface PublishOptions {
  service: ServiceName;
  version: string;
  registry?: string | undefined;
  archiveDir?: string | undefined;
  key: SigningKey;
  env: Readonly<Record<string, string | undefined>>;
  note: (line: string) => void;
}

export interface PublishResult {
  service: ServiceName;
  version: string;
  id: string;
  sbomDigest: string;
  /** The provenance statement's subjects, as signed. */
  subjects: Array<{ name: string; digest: string }>;
  keyid: string;
  registry?: { repository: string; digest: string; tags: string[]; referrers: string | null; unchanged: boolean };
  archive?: { file: string; sha256: string; sbom: string; provenance: string; unchanged: boolean };
}

/** Refuses a version the registry already holds with other content, saying where that came from. */
async function refuseRepublish(
  repository: string,
  version: string,
  existing: string | null,
  id: string,
): Promise<never> {
  const labels = await remoteLabels(repository, version);
  const revision = labels?.["org.opencontainers.image.revision"] ?? "an unknown commit";
  throw new DeployError(
    `${repository}:${version} is already published with different content (image ${existing}, local ${id}); it was built from ${revision}`,
    ExitCode.failed,
    `a published version never changes. If the release of ${revision} did not finish, re-run it (it completes: its build is the same), then release this commit as the next version`,
  );
}

interface Pushed {
  repository: string;
  /** The registry's manifest: the layout's, or what an earlier publish of this same image pushed. */
  manifest: Descriptor;
  digest: string;
  tags: string[];
  unchanged: boolean;
}

/** Pushes the layout's image as `version` (unless already there) and its sha tag. */
async function pushImage(
  options: PublishOptions,
  layout: string,
  manifest: Descriptor,
  id: string,
  commit: string,
): Promise<Pushed> {
  const { service, version, note } = options;
  const repository = `${options.registry}/${service}`;
  const existing = await remoteManifest(repository, version);
  if (existing && existing.configDigest !== id) await refuseRepublish(repository, version, existing.configDigest, id);
  const tags: string[] = [];
  let pushed = manifest;
  if (existing) {
    pushed = { mediaType: existing.mediaType, digest: existing.digest, size: existing.size };
    note(`${repository}:${version} already holds this image (${existing.digest}); not pushed again`);
  } else {
    await pushLayout(layout, version, repository, version);
    const now = await remoteManifest(repository, version);
    if (now?.digest !== manifest.digest) {
      throw new DeployError(
        `pushed ${repository}:${version} but it names ${now?.digest ?? "nothing"}, not ${manifest.digest}`,
      );
    }
    tags.push(version);
  }
  for (const tag of releaseTags(version, commit).slice(1)) {
    const current = await remoteManifest(repository, tag);
    if (current?.digest === pushed.digest) continue;
    await tagDigest(repository, pushed.digest, tag);
    tags.push(tag);
  }
  return { repository, manifest: pushed, digest: pushed.digest, tags, unchanged: existing !== null };
}

/** The SBOM and the signed provenance as OCI referrers of the image (the OCI 1.1 fallback tag). */
async function pushReferrers(layout: string, pushed: Pushed, sbom: Buffer, provenance: Buffer): Promise<string> {
  const subject = pushed.manifest;
  const referrers = [
    writeReferrer(layout, subject, MEDIA_TYPES.cyclonedx, sbom),
    writeReferrer(layout, subject, "application/vnd.in-toto+json", provenance),
  ];
  // skopeo 1.9 refuses `artifactType` in an index's entries; the artifacts themselves carry it.
  const index = writeReferrersIndex(
    layout,
    referrers.map(({ artifactType: _, ...descriptor }) => descriptor),
  );
  const tag = referrersTag(pushed.digest);
  writeIndex(layout, [{ ...index, annotations: { "org.opencontainers.image.ref.name": tag } }]);
  const current = await remoteManifest(pushed.repository, tag);
  if (current?.digest !== index.digest) await pushLayout(layout, tag, pushed.repository, tag);
  return `${pushed.repository}:${tag}`;
}

export async function publish(options: PublishOptions): Promise<PublishResult> {
  const { service, version, note } = options;
  const { ref, info, commit } = await localRelease(service, version);
  const work = mkdtempSync(join(tmpdir(), "timekit-publish-"));
  try {
    const files = await savedFiles(ref, info, work);
    const created = info.labels["org.opencontainers.image.created"] || info.created;
    const sbom = sbomBytes(REPO_ROOT, service, { version, commit, created });
    const sbomDigest = sha256(sbom);
    const labelled = info.labels[SBOM_LABEL];
    if (labelled !== sbomDigest) {
      note(
        `${ref}'s ${SBOM_LABEL} is ${labelled ?? "missing"}, not this SBOM's ${sbomDigest}: it was not built by build`,
      );
    }
    const subjects: PublishResult["subjects"] = [];
    let archive: Awaited<ReturnType<typeof writeArchive>> | undefined;
    if (options.archiveDir) {
      archive = await writeArchive(options.archiveDir, service, version, files, join(work, "archive.tar"), note);
      subjects.push({ name: basename(archive.file), digest: `sha256:${archive.sha256}` });
    }
    let pushed: Pushed | undefined;
    let oci: Awaited<ReturnType<typeof writeOciLayout>> | undefined;
    if (options.registry) {
      oci = await writeOciLayout(join(work, "oci"), files, version);
      pushed = await pushImage(options, oci.layout, oci.manifest, info.id, commit);
      subjects.push({ name: pushed.repository, digest: pushed.digest });
    }
    const statement = provenanceStatement({
      service,
      version,
      commit: await fullCommit(commit),
      sourceUrl: info.labels["org.opencontainers.image.source"] ?? "",
      imageId: info.id,
      sbomDigest,
      subjects,
      env: options.env,
    });
    const envelope = Buffer.from(`${JSON.stringify(signStatement(statement, options.key))}\n`);
    const result: PublishResult = { service, version, id: info.id, sbomDigest, subjects, keyid: options.key.keyid };
    if (archive && options.archiveDir) {
      const companions = writeArchiveCompanions(options.archiveDir, service, version, archive, sbom, envelope, note);
      result.archive = { ...archive, ...companions };
    }
    if (pushed && oci) {
      const referrers = await pushReferrers(oci.layout, pushed, sbom, envelope);
      const { manifest: _, ...summary } = pushed;
      result.registry = { ...summary, referrers };
    }
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
