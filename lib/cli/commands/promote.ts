/**
 * `deploy.ts promote --service=S --version=X.Y.Z --registry=R`: marks the tested image
 * R/S:X.Y.Z known-good by digest (tags `known-good` and `known-good-X.Y.Z` name the same
 * manifest); nothing is rebuilt or re-pushed. `up --version_S=known-good` deploys it.
 */
import { Progress } from "../../deploy/progress";
import { UsageError } from "../../errors";
import { defineCommand } from "../command";
import { jsonArg, quietArg } from "../flags";
import { registryArg, releaseFrom, requiredVersionArg, serviceArg } from "./release-args";

export default defineCommand({
  name: "promote",
  description: "Mark a published, tested version known-good by digest (tags known-good, known-good-X.Y.Z)",
  args: {
    ...serviceArg,
    ...requiredVersionArg,
    ...registryArg("The registry the version was published to (env REGISTRY)"),
    ...jsonArg,
    ...quietArg,
  },
  options(values, io) {
    const { version, registry } = releaseFrom(values, io);
    if (!registry)
      throw new UsageError("promote needs --registry=R (or env REGISTRY): known-good is a tag in the registry");
    return { service: values.service, version, registry, json: values.json, quiet: values.quiet };
  },
  async run({ service, version, registry, json, quiet }, io) {
    const progress = new Progress(io, quiet);
    const { promote } = await import("../../images/publish");
    const r = await progress.step(`${service} ${version}: promote to known-good`, () =>
      promote(service, version, registry),
    );
    io.stdout(
      json
        ? `${JSON.stringify(r, null, 2)}\n`
        : `promoted ${r.repository}:${version} (${r.digest}) as ${r.tags.join(", ")}\n`,
    );
  },
});
