/**
 * A release's image in the local engine: `build` makes it (reproducible, tagged `X.Y.Z` and
 * `sha-<commit>`), `integrate` runs it, `publish` reads it back.
 *
 * Tags of a release X.Y.Z: `X.Y.Z` and `sha-<commit>` at build and publish, `X.Y` and `X` (stable
 * versions, only while the highest of their line) at promotion. There is no `latest` in a
 * release repository: deploys name a version or `known-good`.
 */
import semver from "semver";
import { DeployError, ExitCode } from "../errors";
import type { ServiceName } from "../services";
import { buildImage } from "./build";
import { inspectImage, tagImage } from "./docker";
import { LOCAL_REPOSITORY } from "./registry";

/** `sha-<7 hex>` from a commit, or null for an unknown or uncommitted (`-dirty`) tree. */
export function shaTag(commit: string): string | null {
  return /^[0-9a-f]{7,40}$/.test(commit) ? `sha-${commit.slice(0, 7)}` : null;
}

/** `X.Y` and `X` of a stable version (none for a pre-release): moved by `promote` only. */
export function floatingTags(version: string): string[] {
  if (semver.prerelease(version) !== null) return [];
  return [`${semver.major(version)}.${semver.minor(version)}`, `${semver.major(version)}`];
}

/** The tags `build` gives a release, and `publish` pushes: the version and the commit. */
export function releaseTags(version: string, commit: string): string[] {
  const sha = shaTag(commit);
  return sha ? [version, sha] : [version];
}

export const localRef = (service: ServiceName, tag: string) => `${LOCAL_REPOSITORY}/${service}:${tag}`;

export interface BuildResult {
  service: ServiceName;
  version: string;
  id: string;
  commit: string;
  tags: string[];
  labels: Record<string, string>;
}

export async function buildRelease(
  service: ServiceName,
  version: string | undefined,
  note: (line: string) => void,
): Promise<BuildResult> {
  // dev builds get `dev` and the sha tag; the commit is known only after metadata is read.
  const built = await buildImage({
    service,
    version: version ?? "dev",
    tags: [localRef(service, version ?? "dev")],
    onProgress: (line) => {
      if (/cannot import or export a BuildKit cache/.test(line)) note(line);
    },
  });
  const tags = releaseTags(version ?? "dev", built.commit).map((t) => localRef(service, t));
  for (const ref of tags.slice(1)) await tagImage(built.id, ref);
  if (!shaTag(built.commit)) note(`no sha-<commit> tag: the build's commit is ${built.commit} (uncommitted changes)`);
  return { service, version: built.version, id: built.id, commit: built.commit, tags, labels: built.labels };
}

/** The local image of a release, which `build` made; fails with the fix when it is missing. */
export async function localRelease(service: ServiceName, version: string) {
  const ref = localRef(service, version);
  const info = await inspectImage(ref);
  if (!info) {
    throw new DeployError(
      `${ref} is not in the local engine`,
      ExitCode.failed,
      `build it first: bun deploy.ts build --service=${service} --version=${version}`,
    );
  }
  const labelled = info.labels["org.opencontainers.image.version"];
  if (labelled !== undefined && labelled !== version) {
    throw new DeployError(
      `${ref} is labelled version ${labelled}, not ${version}: it was tagged by hand, not built for this version`,
      ExitCode.failed,
      `rebuild it: bun deploy.ts build --service=${service} --version=${version}`,
    );
  }
  return { ref, info, commit: info.labels["org.opencontainers.image.revision"] ?? "unknown" };
}
