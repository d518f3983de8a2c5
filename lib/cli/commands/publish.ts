/**
 * `deploy.ts publish --service=S --version=X.Y.Z [--registry=R] [--archive_dir=DIR]`: pushes the
 * image `build` made to R/S:X.Y.Z (+ floating tags) and/or writes DIR/S-X.Y.Z.tar.gz with its
 * .sha256, a CycloneDX SBOM (.cdx.json) and metadata (.json). A version is immutable: the same
 * content again is a no-op, different content fails.
 */
import { Progress } from "../../deploy/progress";
import { UsageError } from "../../errors";
import { defineCommand } from "../command";
import { jsonArg, quietArg } from "../flags";
import { registryArg, releaseFrom, requiredVersionArg, serviceArg } from "./release-args";

export default defineCommand({
  name: "publish",
  description: "Publish a built release to a registry and/or as a checksummed archive; a version never changes",
  args: {
    ...serviceArg,
    ...requiredVersionArg,
    ...registryArg("Push to this registry, e.g. ghcr.io/owner or 127.0.0.1:5000/timekit (env REGISTRY)"),
    archive_dir: {
      type: "string",
      description: "Write S-X.Y.Z.tar.gz, .sha256, .cdx.json (SBOM) and .json (metadata) into DIR",
      valueHint: "dir",
    },
    ...jsonArg,
    ...quietArg,
  },
  options(values, io) {
    const { version, registry } = releaseFrom(values, io);
    if (!registry && !values.archive_dir) {
      throw new UsageError(
        "publish needs a destination: --registry=R (or env REGISTRY) and/or --archive_dir=DIR",
        `e.g. bun deploy.ts publish --service=${values.service} --version=${version} --archive_dir=dist/release`,
      );
    }
    return {
      service: values.service,
      version,
      registry,
      archiveDir: values.archive_dir,
      json: values.json,
      quiet: values.quiet,
    };
  },
  async run({ service, version, registry, archiveDir, json, quiet }, io) {
    const progress = new Progress(io, quiet);
    const note = (line: string) => progress.note(line);
    const { publishArchive, publishRegistry } = await import("../../images/publish");
    const { requireEngine } = await import("../../images/docker");
    await requireEngine();
    const result: Record<string, unknown> = { service, version };
    const lines: string[] = [];
    if (registry) {
      const r = await progress.step(`${service} ${version}: push to ${registry}`, () =>
        publishRegistry(service, version, registry, note),
      );
      result.registry = r;
      lines.push(
        r.unchanged && r.tags.length === 0
          ? `${r.repository}:${version} already published (${r.digest}); nothing changed`
          : `pushed ${r.repository}@${r.digest} as ${r.tags.join(", ")}`,
      );
    }
    if (archiveDir) {
      const a = await progress.step(`${service} ${version}: write archive`, () =>
        publishArchive(service, version, archiveDir, note),
      );
      result.archive = a;
      lines.push(
        a.unchanged
          ? `${a.file} already published (sha256 ${a.sha256}); nothing changed`
          : `wrote ${a.file} (sha256 ${a.sha256}), ${a.sbom}`,
      );
    }
    io.stdout(json ? `${JSON.stringify(result, null, 2)}\n` : `${lines.join("\n")}\n`);
  },
});
