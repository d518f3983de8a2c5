/**
 * `deploy.ts promote --service=S --version=X.Y.Z --registry=R`: marks the tested image
 * R/S:X.Y.Z known-good by digest (tags `known-good` and `known-good-X.Y.Z` name the same
 * manifest); nothing is rebuilt or re-pushed. `up --version_S=known-good` deploys it.
 */
import { defineCommand } from "citty";
import { releaseArgs, releaseOutputArgs } from "../args";
import { UsageError } from "../errors";
import type { FlagValues } from "../flags";
import { Progress } from "../progress";
import { registryFlag, serviceFlag, versionFlag } from "../release-flags";

export default defineCommand({
  meta: {
    name: "promote",
    description: "Mark a published, tested version known-good by digest (tags known-good, known-good-X.Y.Z)",
  },
  args: {
    ...releaseArgs,
    registry: {
      type: "string",
      description: "The registry the version was published to (env REGISTRY)",
      valueHint: "registry",
    },
    ...releaseOutputArgs,
  },
  async run({ data }) {
    const args = data as FlagValues;
    const service = serviceFlag(args, "promote");
    const version = versionFlag(args, "promote", true) as string;
    const registry = registryFlag(args);
    if (!registry) {
      throw new UsageError("promote needs --registry=R (or env REGISTRY): known-good is a tag in the registry");
    }
    const progress = new Progress(args.quiet === true);
    const { promote } = await import("../release");
    const r = await progress.step(`${service} ${version}: promote to known-good`, () =>
      promote(service, version, registry),
    );
    process.stdout.write(
      args.json === true
        ? `${JSON.stringify(r, null, 2)}\n`
        : `promoted ${r.repository}:${version} (${r.digest}) as ${r.tags.join(", ")}\n`,
    );
  },
});
