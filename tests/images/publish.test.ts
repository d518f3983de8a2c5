/** What a release is tagged and what its SBOM lists, from bun.lock: no Docker needed. */
import { describe, expect, test } from "bun:test";
import { floatingTags, releaseTags, shaTag } from "../../lib/images/release";
import { serviceSbom } from "../../lib/images/sbom";
import { REPO_ROOT as ROOT } from "../../lib/paths";

describe("release tags", () => {
  test("build and publish tag X.Y.Z and sha-<commit>; promote moves X.Y and X", () => {
    expect(releaseTags("1.4.2", "0123456789ab")).toEqual(["1.4.2", "sha-0123456"]);
    expect(floatingTags("1.4.2")).toEqual(["1.4", "1"]);
  });
  test("a pre-release gets no floating tag", () => {
    expect(releaseTags("2.0.0-rc.1", "0123456789ab")).toEqual(["2.0.0-rc.1", "sha-0123456"]);
    expect(floatingTags("2.0.0-rc.1")).toEqual([]);
  });
  test("an uncommitted tree gets no sha tag", () => {
    expect(shaTag("0123456789ab-dirty")).toBeNull();
    expect(releaseTags("1.0.0", "unknown")).toEqual(["1.0.0"]);
  });
});

describe("SBOM from bun.lock", () => {
  const meta = { version: "1.0.0", commit: "0123456789ab", created: "2026-01-01T00:00:00.000Z" };
  test("service2 lists its own and the shared runtime's production dependencies, not dev tools", () => {
    const sbom = serviceSbom(ROOT, "service2", meta) as { components: Array<{ name: string; purl: string }> };
    const names = sbom.components.map((c) => c.name);
    expect(names).toContain("elysia");
    expect(names).toContain("luxon");
    expect(names).toContain("prom-client");
    expect(names).not.toContain("typescript");
    expect(names).not.toContain("@biomejs/biome");
    expect(sbom.components.find((c) => c.name === "luxon")?.purl).toMatch(/^pkg:npm\/luxon@\d+\.\d+\.\d+$/);
  });
  test("service1 does not list service2's luxon", () => {
    const sbom = serviceSbom(ROOT, "service1", meta) as { bomFormat: string; components: Array<{ name: string }> };
    expect(sbom.bomFormat).toBe("CycloneDX");
    expect(sbom.components.map((c) => c.name)).not.toContain("luxon");
  });
});
