import { existsSync, readdirSync } from "node:fs";
import semver from "semver";
import { KNOWN_GOOD } from "../images/registry";
import type { ServiceName } from "../services";

/**
 * What a `--version_serviceN` value names. `dev` builds the working tree; anything else is a
 * published tag (the leading `v` of `v1.2.3` is a spelling, not part of the tag).
 */
export type VersionSpec = { kind: "dev" } | { kind: "tag"; tag: string } | { kind: "known-good" };

/** `1.0`, `v1.0`: the two-part form publishes as a floating minor tag. */
const TWO_PART = /^(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** Returns the spec, or null when the value is not a version (`known-good`: the image last promoted). */
export function parseVersion(input: string): VersionSpec | null {
  const value = input.trim();
  if (value === "dev") return { kind: "dev" };
  if (value === KNOWN_GOOD) return { kind: "known-good" };
  const bare = value.startsWith("v") || value.startsWith("V") ? value.slice(1) : value;
  if (TWO_PART.test(bare)) return { kind: "tag", tag: bare };
  // semver.valid accepts "=1.2.3" and surrounding spaces; require the canonical spelling.
  if (semver.valid(bare) === bare) return { kind: "tag", tag: bare };
  return null;
}

/** The version string recorded in plans and history: `dev` or the tag without `v`. */
export function versionLabel(spec: VersionSpec): string {
  return spec.kind === "tag" ? spec.tag : spec.kind === "dev" ? "dev" : KNOWN_GOOD;
}

/**
 * One version grammar for every source: a two-part version `X.Y` (`v1.0`, `1.0`) names the newest
 * published `X.Y.Z` (pre-releases left out), as the floating tag `X.Y` promote moves does; a full
 * version names itself. Null when `published` holds nothing of that line.
 */
export function newestOfLine(version: string, published: readonly string[]): string | null {
  if (!isLine(version)) return published.includes(version) ? version : null;
  const line = published.filter(
    (v) => semver.valid(v) === v && semver.prerelease(v) === null && semver.satisfies(v, `${version}.x`),
  );
  return line.sort(semver.rcompare)[0] ?? null;
}

/** `1.0` (already without `v`): a release line, not one release. */
export const isLine = (version: string) => TWO_PART.test(version);

/** The versions `publish --archive_dir` wrote for `service` into `dir`. */
export function archivedVersions(dir: string, service: ServiceName): string[] {
  const prefix = `${service}-`;
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((file) => file.startsWith(prefix) && file.endsWith(".tar.gz"))
        .map((file) => file.slice(prefix.length, -".tar.gz".length))
    : [];
}
