import { describe, expect, test } from "bun:test";
import { parseCommitMessage } from "../../lib/release/commits";
import {
  latestReleaseTag,
  nextVersion,
  releaseTagName,
  versionFromTag,
  withLockfileWorkspaceVersion,
  withPackageVersion,
} from "../../lib/release/version";

const commits = (...messages: string[]) => messages.map((m, i) => parseCommitMessage(`c${i}`, m));

describe("nextVersion(current, commits)", () => {
  const cases: Array<[current: string, messages: string[], expected: string | null]> = [
    ["1.0.0", [], null],
    ["1.0.0", ["chore: x", "docs: y"], null],
    ["1.0.0", ["fix: a"], "1.0.1"],
    ["1.0.0", ["fix: a", "fix: b"], "1.0.1"],
    ["1.0.0", ["fix: a", "feat: b"], "1.1.0"],
    ["1.4.2", ["feat: b"], "1.5.0"],
    ["1.4.2", ["fix: a", "feat!: b", "feat: c"], "2.0.0"],
    ["1.4.2", ["docs: a\n\nBREAKING CHANGE: but says so"], "2.0.0"],
    // Before 1.0.0 a breaking change bumps the minor version.
    ["0.3.1", ["feat!: b"], "0.4.0"],
    ["0.3.1", ["feat: b"], "0.4.0"],
    ["0.3.1", ["fix: b"], "0.3.2"],
    // A pre-release starting point is finished by semver.inc, not skipped past.
    ["1.2.0-rc.1", ["fix: a"], "1.2.0"],
    ["1.2.0-rc.1", ["feat!: a"], "2.0.0"],
  ];
  test.each(cases)("%s + %p → %p", (current, messages, expected) => {
    expect(nextVersion(current, commits(...messages))?.version ?? null).toBe(expected);
  });

  test("reports the bump it applied", () => {
    expect(nextVersion("0.9.0", commits("feat!: x"))).toEqual({ bump: "minor", version: "0.10.0" });
    expect(nextVersion("2.0.0", commits("feat!: x"))).toEqual({ bump: "major", version: "3.0.0" });
  });

  test("rejects a current version that is not semver", () => {
    expect(() => nextVersion("1.0", commits("fix: a"))).toThrow(/not a semantic version/);
  });
});

describe("release tags", () => {
  test("are named <service>-v<version>", () => {
    expect(releaseTagName("service2", "1.2.3")).toBe("service2-v1.2.3");
  });

  const parsed: Array<[tag: string, version: string | null]> = [
    ["service1-v1.2.3", "1.2.3"],
    ["service1-v10.0.12", "10.0.12"],
    ["service1-v1.2", null],
    ["service1-v1.2.3-rc.1", null],
    ["service1-1.2.3", null],
    ["service2-v1.2.3", null],
    ["service10-v1.2.3", null],
    ["service1-v01.2.3", null],
  ];
  test.each(parsed)("versionFromTag(service1, %p) → %p", (tag, version) => {
    expect(versionFromTag("service1", tag)).toBe(version);
  });

  test("the latest is the highest version, not the last listed", () => {
    const tags = ["service1-v1.10.0", "service1-v1.9.0", "service1-v2.0.0-rc.1", "service2-v9.0.0", "service1-v1.2.0"];
    expect(latestReleaseTag("service1", tags)).toBe("service1-v1.10.0");
    expect(latestReleaseTag("service2", tags)).toBe("service2-v9.0.0");
    expect(latestReleaseTag("service1", [])).toBeNull();
  });
});

describe("withPackageVersion", () => {
  test("changes only the version, keeping formatting byte for byte", () => {
    const before = '{\n  "name": "@timekit/service1",\n  "version": "1.0.0",\n  "deps": { "a": "1.0.0" }\n}\n';
    expect(withPackageVersion(before, "1.1.0")).toBe(before.replace('"version": "1.0.0"', '"version": "1.1.0"'));
  });

  test("falls back to re-serialising when the first version key is not the top-level one", () => {
    const before = '{"engines": {"version": "9"}, "version": "1.0.0"}';
    const after = JSON.parse(withPackageVersion(before, "2.0.0"));
    expect(after).toEqual({ engines: { version: "9" }, version: "2.0.0" });
  });

  test("adds a version when there was none", () => {
    expect(JSON.parse(withPackageVersion('{"name":"x"}', "0.1.0"))).toEqual({ name: "x", version: "0.1.0" });
  });
});

describe("withLockfileWorkspaceVersion", () => {
  const lock = `{
  "workspaces": {
    "service1": {
      "name": "@timekit/service1",
      "version": "1.0.0",
    },
    "service2": {
      "name": "@timekit/service2",
      "version": "1.0.0",
    },
  },
}`;

  test("changes the named workspace's entry only", () => {
    const updated = withLockfileWorkspaceVersion(lock, "service2", "1.3.0");
    expect(updated).toContain('"name": "@timekit/service2",\n      "version": "1.3.0"');
    expect(updated).toContain('"name": "@timekit/service1",\n      "version": "1.0.0"');
  });

  test("leaves the text alone when the workspace is not listed", () => {
    expect(withLockfileWorkspaceVersion(lock, "service3", "2.0.0")).toBe(lock);
  });
});
