/**
 * `deploy.ts publish --service=S --version=X.Y.Z [--registry=R] [--archive_dir=DIR]`: pushes the
 * image `build` made to R/S:X.Y.Z (+ floating tags) and/or writes DIR/S-X.Y.Z.tar.gz with its
 * .sha256, a CycloneDX SBOM (.cdx.json) and metadata (.json). A version is immutable: the same
 * content again is a no-op, different content fails.
 */
import { defineCommand } from "citty";
import { releaseArgs, releaseOutputArgs } from "../args";
import { UsageError } from "../errors";
import type { FlagValues } from "../flags";
import { Progress } from "../progress";
import { registryFlag, serviceFlag, versionFlag } from "../release-flags";

export default defineCommand({
  meta: {
    name: "publish",
    description: "Publish a built release to a registry and/or as a checksummed archive; a version never changes",
  },
  args: {
    ...releaseArgs,
    registry: {
      type: "string",
      description: "Push to this registry, e.g. ghcr.io/owner or 127.0.0.1:5000/timekit (env REGISTRY)",
      valueHint: "registry",
    },
    archive_dir: {
      type: "string",
      description: "Write S-X.Y.Z.tar.gz, .sha256, .cdx.json (SBOM) and .json (metadata) into DIR",
      valueHint: "dir",
    },
    ...releaseOutputArgs,
  },
  async run({ data }) {
    const args = data as FlagValues;
    const service = serviceFlag(args, "publish");
    const version = versionFlag(args, "publish", true) as string;
    const registry = registryFlag(args);
    const archiveDir = typeof args.archive_dir === "string" ? args.archive_dir : undefined;
    if (!registry && !archiveDir) {
      throw new UsageError(
        "publish needs a destination: --registry=R (or env REGISTRY) and/or --archive_dir=DIR",
        `e.g. bun deploy.ts publish --service=${service} --version=${version} --archive_dir=dist/release`,
      );
    }
    const progress = new Progress(args.quiet === true);
    const note = (line: string) => progress.note(line);
    const { publishArchive, publishRegistry } = await import("../release");
    const { requireEngine } = await import("../docker");
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
    process.stdout.write(args.json === true ? `${JSON.stringify(result, null, 2)}\n` : `${lines.join("\n")}\n`);
  },
});
