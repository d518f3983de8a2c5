/** The names of the archive channel's files (lib/images/archive.ts), in one place. */
import { join } from "node:path";

/** The files `publish --archive_dir=DIR` writes for one release. */
export function archivePaths(dir: string, service: string, version: string) {
  const archive = join(dir, `${service}-${version}.tar.gz`);
  return {
    archive,
    checksum: `${archive}.sha256`,
    sbom: join(dir, `${service}-${version}.cdx.json`),
    provenance: join(dir, `${service}-${version}.intoto.jsonl`),
  };
}

/** The archive channel's signed known-good record of a service, which `promote --archive_dir` writes. */
export const knownGoodRecord = (dir: string, service: string) => join(dir, `${service}-known-good.intoto.jsonl`);
