/**
 * The archive channel: `publish --archive_dir=DIR` writes, per release,
 *
 *   DIR/S-X.Y.Z.tar.gz            the image as a Docker archive, gzip; the same build gives the same bytes
 *   DIR/S-X.Y.Z.tar.gz.sha256     its checksum (`sha256sum --check` reads it)
 *   DIR/S-X.Y.Z.cdx.json          the CycloneDX SBOM the image's io.timekit.sbom.digest label names
 *   DIR/S-X.Y.Z.intoto.jsonl      the signed provenance: a DSSE envelope whose subject is the archive
 *
 * and `promote --archive_dir=DIR` writes DIR/S-known-good.intoto.jsonl, a signed record naming the
 * known-good version's archive. `up --from_archive=DIR` trusts an archive only when a trusted key
 * signed its provenance (lib/images/signing.ts) and loads it under one tag of its own choosing:
 * the archive's own tags are never applied, so it cannot move any other image's tag.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { DeployError, ExitCode } from "../errors";
import type { ServiceName } from "../services";
import { archivePaths, knownGoodRecord } from "./archive-paths";
import { inspectImage, loadImage } from "./docker";
import { configLabels } from "./image-config";
import { gzipFile, type ImageFiles, readImageArchive, sha256, sha256OfFile, writeDockerArchive } from "./image-files";
import { archiveProblems, knownGoodVersion } from "./provenance";
import { LOCAL_REPOSITORY } from "./registry";
import { type TrustedKey, trustedKeys, verifyEnvelope } from "./signing";

/**
 * Writes the archive of `files` (tagged `timekit/S:X.Y.Z` for a plain `docker load`) into `dir`,
 * or finds the same bytes there already; other bytes under that name are refused.
 */
export async function writeArchive(
  dir: string,
  service: ServiceName,
  version: string,
  files: ImageFiles,
  scratch: string,
  note: (line: string) => void,
): Promise<{ file: string; sha256: string; unchanged: boolean }> {
  mkdirSync(dir, { recursive: true });
  const { archive } = archivePaths(dir, service, version);
  await writeDockerArchive(scratch, files, [`${LOCAL_REPOSITORY}/${service}:${version}`]);
  // Written under a temporary name and renamed, so a half-written archive is never published.
  const partial = `${archive}.partial`;
  try {
    const { digest } = await gzipFile(scratch, partial);
    const hex = digest.replace(/^sha256:/, "");
    if (existsSync(archive)) {
      const existing = (await sha256OfFile(archive)).replace(/^sha256:/, "");
      if (existing !== hex) {
        throw new DeployError(
          `${archive} is already published with different content (sha256 ${existing}; this image gives ${hex})`,
          ExitCode.failed,
          "a published version never changes: release a new version instead",
        );
      }
      note(`${archive} already holds this image; not written again`);
      return { file: archive, sha256: hex, unchanged: true };
    }
    renameSync(partial, archive);
    return { file: archive, sha256: hex, unchanged: false };
  } finally {
    rmSync(partial, { force: true });
    rmSync(scratch, { force: true });
  }
}

/**
 * The files beside an archive: checksum, SBOM, signed provenance. An archive written before keeps
 * the provenance it was published with (a re-run changes nothing); a missing one is written.
 */
export function writeArchiveCompanions(
  dir: string,
  service: ServiceName,
  version: string,
  archive: { sha256: string; unchanged: boolean },
  sbom: Buffer,
  envelope: Buffer,
  note: (line: string) => void,
): { sbom: string; provenance: string } {
  const paths = archivePaths(dir, service, version);
  writeFileSync(paths.checksum, `${archive.sha256}  ${basename(paths.archive)}\n`);
  writeFileSync(paths.sbom, sbom);
  if (archive.unchanged && existsSync(paths.provenance)) {
    if (!readFileSync(paths.provenance).equals(envelope)) note(`${paths.provenance} kept as first published`);
  } else writeFileSync(paths.provenance, envelope);
  return { sbom: paths.sbom, provenance: paths.provenance };
}

export interface ArchiveTrust {
  /** Directories of trusted `*.pub` keys (the repository's release-keys/, the state dir's trusted-keys/). */
  keyDirs: string[];
  /** Keys trusted besides those files (promote: the key it signs with). */
  extraKeys?: TrustedKey[];
  /** Deploy an archive that is unsigned or signed by no trusted key (still checked against its own digests). */
  allowUntrusted: boolean;
}

const UNTRUSTED_FLAG = "--allow_untrusted_archive";

function trustFix(dirs: readonly string[]): string {
  return `put the publisher's public key (*.pub) into ${dirs.join(" or ")}, or pass ${UNTRUSTED_FLAG} to deploy it unverified`;
}

/** Reads a signed statement under `trust`: its payload, or a DeployError saying why it is not trusted. */
function trustedStatement(file: string, trust: ArchiveTrust, note: (line: string) => void): unknown {
  const keys = [...trustedKeys(trust.keyDirs), ...(trust.extraKeys ?? [])];
  const verification = verifyEnvelope(readFileSync(file, "utf8"), keys, file);
  if (verification.kind === "trusted") return verification.statement;
  if (!trust.allowUntrusted) {
    throw new DeployError(
      `${file} is signed by ${verification.keyids.join(", ") || "no key"}, which no trusted key matches`,
      ExitCode.usage,
      trustFix(trust.keyDirs),
    );
  }
  note(`${basename(file)}: signed by an untrusted key; deploying anyway (${UNTRUSTED_FLAG})`);
  return verification.statement;
}

/**
 * The archive of `service` `version` in `dir`, checked: its checksum file (when present), then
 * its signed provenance. Unsigned or untrusted: exit 2 unless `allowUntrusted`. Signed, but not
 * for these bytes or this version: exit 1, always.
 */
export async function verifiedArchive(
  dir: string,
  service: ServiceName,
  version: string,
  trust: ArchiveTrust,
  note: (line: string) => void,
): Promise<{ file: string; sha256: string }> {
  const paths = archivePaths(dir, service, version);
  if (!existsSync(paths.archive)) {
    throw new DeployError(
      `${service} version ${version}: no archive ${paths.archive}`,
      ExitCode.failed,
      "publish it first (bun deploy.ts publish) or check --from_archive",
    );
  }
  const actual = (await sha256OfFile(paths.archive)).replace(/^sha256:/, "");
  if (existsSync(paths.checksum)) {
    const expected = readFileSync(paths.checksum, "utf8").trim().split(/\s+/)[0]?.toLowerCase() ?? "";
    if (expected !== actual) {
      throw new DeployError(
        `checksum mismatch for ${paths.archive}: expected ${expected}, got ${actual}`,
        ExitCode.failed,
        "the archive is corrupt or was changed; copy it again from where it was published",
      );
    }
  }
  if (!existsSync(paths.provenance)) {
    if (!trust.allowUntrusted) {
      throw new DeployError(
        `${paths.archive} is not signed: there is no ${basename(paths.provenance)} beside it`,
        ExitCode.usage,
        `copy the .intoto.jsonl published with it (publish signs every archive), or pass ${UNTRUSTED_FLAG} to deploy it unverified`,
      );
    }
    note(`${basename(paths.archive)}: unsigned; deploying anyway (${UNTRUSTED_FLAG})`);
    return { file: paths.archive, sha256: actual };
  }
  const statement = trustedStatement(paths.provenance, trust, note);
  const problems = archiveProblems(statement, { service, version, file: basename(paths.archive), sha256: actual });
  if (problems.length > 0) {
    throw new DeployError(
      `${paths.archive} does not match its signed provenance: ${problems.join("; ")}`,
      ExitCode.failed,
      "the archive was changed after it was signed; copy it again from where it was published",
    );
  }
  return { file: paths.archive, sha256: actual };
}

/** The version the archive channel's signed known-good record names for `service`. */
export function archiveKnownGood(dir: string, service: ServiceName, trust: ArchiveTrust, note: (line: string) => void) {
  const file = knownGoodRecord(dir, service);
  if (!existsSync(file)) {
    throw new DeployError(
      `${dir} has no known-good record for ${service} (${basename(file)})`,
      ExitCode.failed,
      `promote a version into it first: bun deploy.ts promote --service=${service} --version=X.Y.Z --archive_dir=${dir}`,
    );
  }
  const named = knownGoodVersion(trustedStatement(file, trust, note), service);
  if (typeof named === "string") {
    throw new DeployError(`${file} is not ${service}'s known-good record: ${named}`, ExitCode.failed);
  }
  return named.version;
}

/**
 * Loads a checked archive of `service` `version` under `tag` alone: its config must say it is
 * that service and version (labels), and the engine must then hold it under that image id.
 * The tags the archive itself asks for are never applied.
 */
export async function loadArchive(
  file: string,
  service: ServiceName,
  version: string,
  tagFor: (id: string) => string,
): Promise<{ id: string; ref: string }> {
  const work = mkdtempSync(join(tmpdir(), "timekit-load-"));
  try {
    const image = await readImageArchive(file, join(work, "archive"));
    const labels = configLabels(image.config);
    const labelled = { service: labels["io.timekit.service"], version: labels["org.opencontainers.image.version"] };
    if (labelled.service !== service || labelled.version !== version) {
      throw new DeployError(
        `${file} holds ${labelled.service ?? "an unlabelled image"} version ${labelled.version ?? "unknown"}, not ${service} ${version}`,
        ExitCode.failed,
        "the archive's name does not match its image: copy the right archive from where it was published",
      );
    }
    const id = sha256(image.config);
    const ref = tagFor(id);
    const tarball = join(work, "load.tar");
    await writeDockerArchive(tarball, image, [ref]);
    const loaded = await inspectImage(await loadImage(tarball));
    if (loaded?.id !== id) throw new DeployError(`loaded ${file} as ${loaded?.id ?? "nothing"}, not ${id}`);
    return { id, ref };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
