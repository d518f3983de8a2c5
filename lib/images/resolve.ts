/**
 * Turns each planned service into an image present in the local engine, pinned by content:
 * built from the working tree (`dev`), pulled from a registry, loaded from a signed archive,
 * or found locally. Runs before anything running is touched, so a missing tag, a corrupt or
 * untrusted archive fails (exit 1, or 2 for an unsigned one) with the stack untouched.
 */
import semver from "semver";
import type { ServicePlan } from "../deploy/plan";
import { archivedVersions, isLine, newestOfLine } from "../deploy/versions";
import { DeployError, ExitCode, lastLines } from "../errors";
import type { ServiceName } from "../services";
import { type ArchiveTrust, archiveKnownGood, loadArchive, verifiedArchive } from "./archive";
import { buildImage } from "./build";
import { inspectImage, pullImage, tagImage } from "./docker";
import { CONNECTION, KNOWN_GOOD, LOCAL_REPOSITORY, listTags, unreachable } from "./registry";

/** The content-derived tag history runs an image by: `<repository>/S:<version>-<id, 12 hex>`. */
const pinRef = (service: ServiceName, version: string, id: string, repository: string) =>
  `${repository}/${service}:${version}-${id.replace(/^sha256:/, "").slice(0, 12)}`;

/** Tags an image id with a content-derived tag so history can always run it again. */
async function pin(service: ServiceName, version: string, id: string, repository = LOCAL_REPOSITORY): Promise<string> {
  const ref = pinRef(service, version, id, repository);
  await tagImage(id, ref);
  return ref;
}

/** The plan with a two-part version replaced by the newest release of its line in `published`. */
function pickRelease(s: ServicePlan, published: readonly string[], where: string, note: (line: string) => void) {
  if (!isLine(s.version)) return s;
  const newest = newestOfLine(s.version, published);
  if (newest === null) {
    throw new DeployError(
      `${s.name} version ${s.version} names the newest ${s.version}.x release, and ${where} holds none`,
      ExitCode.failed,
      `published versions there: ${
        published
          .filter((v) => semver.valid(v) === v)
          .sort(semver.compare)
          .join(", ") || "none"
      }`,
    );
  }
  note(`${s.name}: ${s.version} is ${newest}, the newest ${s.version}.x in ${where}`);
  return { ...s, version: newest, image: s.image.replace(/:[^:/]+$/, `:${newest}`) };
}

async function fromRegistry(
  planned: ServicePlan,
  registry: string,
  note: (line: string) => void,
): Promise<ServicePlan> {
  const s = isLine(planned.version)
    ? pickRelease(planned, await listTags(`${registry}/${planned.name}`), registry, note)
    : planned;
  const out = await pullImage(s.image);
  if (out.exitCode !== 0) {
    const detail = lastLines(out, 1).join("");
    if (CONNECTION.test(detail)) throw unreachable(registry, detail);
    const notFound = /manifest unknown|not found|does not exist/i.test(detail);
    const [host, ...path] = registry.split("/");
    throw new DeployError(
      notFound
        ? `${s.name} version ${s.version} is not in the registry: ${s.image} (${detail})`
        : `cannot pull ${s.image}: ${detail}`,
      ExitCode.failed,
      notFound
        ? `check the version; published tags are listed by \`curl http://${host}/v2/${[...path, s.name].join("/")}/tags/list\``
        : "check that the registry is running and reachable, or use --from_archive=DIR",
    );
  }
  const info = await inspectImage(s.image);
  if (!info) throw new DeployError(`pulled ${s.image} but the engine does not list it`);
  const repo = s.image.slice(0, s.image.lastIndexOf(":"));
  const repoDigest = info.repoDigests.find((d) => d.startsWith(`${repo}@`));
  // known-good is a pointer: record the version the promoted image was built as.
  const version = s.version === KNOWN_GOOD ? (info.labels["org.opencontainers.image.version"] ?? s.version) : s.version;
  if (version !== s.version) note(`${s.name}: known-good is version ${version}`);
  return {
    ...s,
    version,
    image: repoDigest ?? (await pin(s.name, s.version, info.id, s.repository)),
    digest: repoDigest?.split("@")[1] ?? info.id,
  };
}

/**
 * An archive's image, loaded only once its signature and content check out, under its pin tag
 * alone (the archive's own tags are never applied). `known-good` is the version the directory's
 * signed known-good record names.
 */
async function fromArchive(
  s: ServicePlan,
  dir: string,
  trust: ArchiveTrust,
  note: (line: string) => void,
): Promise<ServicePlan> {
  const version =
    s.version === KNOWN_GOOD
      ? archiveKnownGood(dir, s.name, trust, note)
      : pickRelease(s, archivedVersions(dir, s.name), dir, note).version;
  if (s.version === KNOWN_GOOD) note(`${s.name}: known-good is version ${version}`);
  const archive = await verifiedArchive(dir, s.name, version, trust, note);
  const loaded = await loadArchive(archive.file, s.name, version, (id) => pinRef(s.name, version, id, s.repository));
  return { ...s, version, image: loaded.ref, digest: loaded.id };
}

/** The service's image in the local engine, pinned; `note` hears what was built or found. */
export async function resolveImage(s: ServicePlan, note: (line: string) => void): Promise<ServicePlan> {
  switch (s.source.kind) {
    case "build": {
      // The working tree, built with the project's Dockerfile; no registry is asked for anything.
      const built = await buildImage({ service: s.name, version: "dev", tags: [s.image] });
      note(`${s.name}: built ${built.commit} with ${built.builderImage} [${built.builderSource}]`);
      return { ...s, image: await pin(s.name, "dev", built.id, s.repository), digest: built.id };
    }
    case "registry":
      return fromRegistry(s, s.source.registry, note);
    case "archive":
      return fromArchive(s, s.source.dir, s.source.trust ?? { keyDirs: [], allowUntrusted: false }, note);
    case "pinned": {
      // A state from history: its pinned image must still be here, with the same content.
      const info = await inspectImage(s.image);
      if (!info) {
        throw new DeployError(
          `${s.name} version ${s.version}: image ${s.image} is no longer in the local engine`,
          ExitCode.failed,
          "deploy that version again with up (from the registry or an archive) instead",
        );
      }
      return { ...s, digest: s.digest ?? info.id };
    }
    case "local": {
      const info = await inspectImage(s.image);
      if (!info) {
        throw new DeployError(
          `${s.name} version ${s.version}: image ${s.image} is not in the local engine`,
          ExitCode.failed,
          "pass --registry=HOST[:PORT][/PATH] (or set REGISTRY) to pull it, or --from_archive=DIR to load it",
        );
      }
      return { ...s, image: await pin(s.name, s.version, info.id, s.repository), digest: info.id };
    }
  }
}
