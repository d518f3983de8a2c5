/**
 * One version grammar for every source: `v1.0`, `1.0` name the newest published `1.0.x` (as the
 * floating tag does), `1.0.0`/`v1.0.0` that release, whether the releases are a registry's tags or
 * the archives `publish --archive_dir` wrote. The same table runs against both sources.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { archivedVersions, newestOfLine, parseVersion, versionLabel } from "../../lib/deploy/versions";

const RELEASES = ["1.0.0", "1.0.2", "1.0.10", "1.0.11-rc.1", "1.1.0", "2.0.0-rc.1"];

/** A registry's tags: the releases, plus the floating, commit and known-good tags beside them. */
const registryTags = [...RELEASES, "1.0", "1", "1.1", "sha-0badc0ffee00", "latest"];

const dir = mkdtempSync(join(tmpdir(), "timekit-version-grammar-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
for (const version of RELEASES) {
  // Every file publish writes beside the archive; only the archives count.
  for (const suffix of [".tar.gz", ".tar.gz.sha256", ".cdx.json", ".intoto.jsonl"]) {
    writeFileSync(join(dir, `service1-${version}${suffix}`), "");
  }
}
writeFileSync(join(dir, "service2-9.9.9.tar.gz"), "");
writeFileSync(join(dir, "service1-known-good.intoto.jsonl"), "");

const SOURCES: Array<[string, () => string[]]> = [
  ["registry tags", () => registryTags],
  ["archive directory", () => archivedVersions(dir, "service1")],
];

const CASES: Array<[typed: string, resolved: string | null]> = [
  ["v1.0", "1.0.10"],
  ["1.0", "1.0.10"],
  ["V1.0", "1.0.10"],
  ["1.0.0", "1.0.0"],
  ["v1.0.2", "1.0.2"],
  ["1.1", "1.1.0"],
  ["1.0.11-rc.1", "1.0.11-rc.1"],
  ["2.0", null],
  ["1.0.3", null],
  ["3.1", null],
];

describe.each(SOURCES)("%s", (_source, published) => {
  test.each(CASES)("--version_service1=%s → %p", (typed, resolved) => {
    const spec = parseVersion(typed);
    expect(spec?.kind).toBe("tag");
    expect(newestOfLine(versionLabel(spec as NonNullable<typeof spec>), published())).toBe(resolved);
  });
});

test("the archive directory lists one version per archive of that service, nothing else", () => {
  expect(archivedVersions(dir, "service1").sort()).toEqual([...RELEASES].sort());
  expect(archivedVersions(dir, "service2")).toEqual(["9.9.9"]);
  expect(archivedVersions(join(dir, "missing"), "service1")).toEqual([]);
});
