import semver from "semver";

/**
 * What a `--version_serviceN` value names. `dev` builds the working tree; anything else is a
 * published tag (the leading `v` of `v1.2.3` is a spelling, not part of the tag).
 */
export type VersionSpec = { kind: "dev" } | { kind: "tag"; tag: string };

/** `1.0`, `v1.0`: the two-part form publishes as a floating minor tag. */
const TWO_PART = /^(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

export const VERSION_HELP = "dev, or a published tag such as 1.0, v1.0, 1.2.3, v1.2.3 or 1.2.3-rc.1";

/** Returns the spec, or null when the value is not a version this CLI accepts. */
export function parseVersion(input: string): VersionSpec | null {
  const value = input.trim();
  if (value === "dev") return { kind: "dev" };
  const bare = value.startsWith("v") || value.startsWith("V") ? value.slice(1) : value;
  if (TWO_PART.test(bare)) return { kind: "tag", tag: bare };
  // semver.valid accepts "=1.2.3" and surrounding spaces; require the canonical spelling.
  if (semver.valid(bare) === bare) return { kind: "tag", tag: bare };
  return null;
}

/** The version string recorded in plans and history: `dev` or the tag without `v`. */
export function versionLabel(spec: VersionSpec): string {
  return spec.kind === "dev" ? "dev" : spec.tag;
}
