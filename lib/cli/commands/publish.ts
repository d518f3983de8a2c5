/**
 * `deploy.ts publish --service=S --version=X.Y.Z [--registry=R] [--archive_dir=DIR]`: publishes
 * the image `build` made, byte for byte: to R/S:X.Y.Z (+ sha-<commit>) with its SBOM and signed
 * provenance as OCI referrers, and/or as DIR/S-X.Y.Z.tar.gz with .sha256, .cdx.json (SBOM) and
 * .intoto.jsonl (signed provenance). A version never changes: the same build again is a no-op,
 * other content fails. Floating tags (X.Y, X) move at `promote`.
 */
import { Progress } from "../../deploy/progress";
import { defineCommand } from "../command";
import { jsonArg, quietArg } from "../flags";
import {
  archiveDirArg,
  destinationFrom,
  registryArg,
  requiredVersionArg,
  serviceArg,
  signingKeyArg,
  stateDirArg,
} from "./release-args";

export default defineCommand({
  name: "publish",
  description: "Publish a built release, signed, to a registry and/or as an archive; a version never changes",
  args: {
    ...serviceArg,
    ...requiredVersionArg,
    ...registryArg("Push to this registry, e.g. ghcr.io/owner or 127.0.0.1:5000/timekit (env REGISTRY)"),
    ...archiveDirArg("Write S-X.Y.Z.tar.gz, .sha256, .cdx.json (SBOM) and .intoto.jsonl (signed provenance) into DIR"),
    ...signingKeyArg,
    ...stateDirArg,
    ...jsonArg,
    ...quietArg,
  },
  options(values, io) {
    return destinationFrom(
      values,
      io,
      "publish needs a destination: --registry=R (or env REGISTRY) and/or --archive_dir=DIR",
      (version) => `publish --service=${values.service} --version=${version} --archive_dir=dist/release`,
    );
  },
  async run(options, io) {
    const { service, version, registry, archiveDir, json, quiet } = options;
    const progress = new Progress(io, quiet);
    const note = (line: string) => progress.note(line);
    const { publish } = await import("../../images/publish");
    const { signingKey } = await import("../../images/signing");
    const { requireEngine } = await import("../../images/docker");
    const key = signingKey({ file: options.signingKey, stateBase: options.stateBase, env: io.env }, note);
    await requireEngine();
    const where = [registry, archiveDir].filter(Boolean).join(" and ");
    const r = await progress.step(`${service} ${version}: publish to ${where}`, () =>
      publish({ service, version, registry, archiveDir, key, env: io.env, note }),
    );
    const lines: string[] = [];
    if (r.registry) {
      lines.push(
        r.registry.unchanged && r.registry.tags.length === 0
          ? `${r.registry.repository}:${version} already published (${r.registry.digest}); nothing changed`
          : `pushed ${r.registry.repository}@${r.registry.digest} as ${r.registry.tags.join(", ")}`,
        `  SBOM and signed provenance: ${r.registry.referrers}`,
      );
    }
    if (r.archive) {
      lines.push(
        r.archive.unchanged
          ? `${r.archive.file} already published (sha256 ${r.archive.sha256}); nothing changed`
          : `wrote ${r.archive.file} (sha256 ${r.archive.sha256})`,
        `  SBOM ${r.archive.sbom}, signed provenance ${r.archive.provenance}`,
      );
    }
    lines.push(`signed by ${r.keyid}`);
    io.stdout(json ? `${JSON.stringify(r, null, 2)}\n` : `${lines.join("\n")}\n`);
  },
});
