/**
 * `deploy.ts promote --service=S --version=X.Y.Z [--registry=R] [--archive_dir=DIR]`: marks a
 * published, tested release known-good. In the registry: R/known-good/S:latest and :X.Y.Z name
 * R/S:X.Y.Z's digest, and R/S:X.Y and :X move to it (while it is the highest of their line). In
 * DIR: the signed record DIR/S-known-good.intoto.jsonl names its archive. Nothing is rebuilt;
 * `up --version_S=known-good` deploys it from either channel.
 */
import { Progress } from "../../deploy/progress";
import { REPO_ROOT } from "../../paths";
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
  name: "promote",
  description: "Mark a published, tested version known-good (registry: known-good/S; archives: a signed record)",
  args: {
    ...serviceArg,
    ...requiredVersionArg,
    ...registryArg("The registry the version was published to (env REGISTRY)"),
    ...archiveDirArg("The archive directory the version was published to: write its signed known-good record"),
    ...signingKeyArg,
    ...stateDirArg,
    ...jsonArg,
    ...quietArg,
  },
  options(values, io) {
    return destinationFrom(
      values,
      io,
      "promote needs --registry=R (or env REGISTRY) and/or --archive_dir=DIR: where the version was published",
      (version) => `promote --service=${values.service} --version=${version} --registry=127.0.0.1:5000/timekit`,
    );
  },
  async run(options, io) {
    const { service, version, registry, archiveDir, json, quiet } = options;
    const progress = new Progress(io, quiet);
    const note = (line: string) => progress.note(line);
    const { promote } = await import("../../images/promote");
    const { signingKey, trustedKeyDirs } = await import("../../images/signing");
    const key = archiveDir
      ? signingKey({ file: options.signingKey, stateBase: options.stateBase, env: io.env }, note)
      : undefined;
    const r = await progress.step(`${service} ${version}: promote to known-good`, () =>
      promote({
        service,
        version,
        registry,
        archiveDir,
        ...(key ? { key } : {}),
        keyDirs: trustedKeyDirs(REPO_ROOT, options.stateBase),
        note,
      }),
    );
    const lines: string[] = [];
    if (r.registry) {
      lines.push(
        `promoted ${r.registry.repository}:${version} (${r.registry.digest}) as ${r.registry.knownGood.join(", ")}`,
      );
      if (r.registry.tags.length > 0)
        lines.push(`  moved ${r.registry.tags.map((t) => `${r.registry?.repository}:${t}`).join(", ")}`);
    }
    if (r.archive) lines.push(`wrote ${r.archive.record}: known-good is ${r.archive.archive}`);
    io.stdout(json ? `${JSON.stringify(r, null, 2)}\n` : `${lines.join("\n")}\n`);
  },
});
