import { describe, expect, test } from "bun:test";
import { type Bump, bumpFor, parseCommitMessage, strongestBump } from "../../lib/release/commits";

describe("bumpFor: the bump a commit message asks for", () => {
  const cases: Array<[message: string, bump: Bump | null]> = [
    ["fix: handle an empty body", "patch"],
    ["fix(service1): handle an empty body", "patch"],
    ["perf(runtime): cache formatters", "patch"],
    ["feat: add /v1/format", "minor"],
    ["feat(service2): accept locale", "minor"],
    ["Feat: upper-case type still counts", "minor"],
    ["feat!: drop the legacy route", "major"],
    ["fix(contract)!: epoch is seconds now", "major"],
    ["refactor!: breaking even without feat/fix", "major"],
    ["feat: new field\n\nBREAKING CHANGE: iso is now required", "major"],
    ["fix: x\n\nBREAKING-CHANGE: dash spelling", "major"],
    ['Revert "feat: add /v1/format"\n\nThis reverts commit 0123456789abcdef.', "patch"],
    ["revert: feat: add thing\n\nThis reverts commit 0123456789abcdef.", "patch"],
    ["chore: bump deps", null],
    ["docs: explain versions", null],
    ["ci: pin actions", null],
    ["test: more cases", null],
    ["build(deps): update elysia", null],
    ["style: format", null],
    ["Add a thing without a conventional header", null],
    ["Merge pull request #12 from someone/branch", null],
    ["feature: not a known type", null],
    ["fix:missing space is not conventional", null],
    ["", null],
  ];
  test.each(cases)("%p → %p", (message, bump) => {
    expect(bumpFor(parseCommitMessage("abc", message))).toBe(bump);
  });
});

describe("parseCommitMessage", () => {
  test("keeps hash, header, type, scope and subject", () => {
    const commit = parseCommitMessage("deadbeef", "feat(service2)!: rename field\n\nbody text\n");
    expect(commit).toEqual({
      hash: "deadbeef",
      header: "feat(service2)!: rename field",
      type: "feat",
      scope: "service2",
      subject: "rename field",
      breaking: true,
      revert: false,
    });
  });
  test("a header that is not conventional is its own subject", () => {
    expect(parseCommitMessage("abc", "Fix the thing\n").subject).toBe("Fix the thing");
  });
});

describe("strongestBump", () => {
  const cases: Array<[bumps: Array<Bump | null>, strongest: Bump | null]> = [
    [[], null],
    [[null, null], null],
    [["patch", null], "patch"],
    [["patch", "minor", "patch"], "minor"],
    [["minor", "major", "patch"], "major"],
    [[null, "major"], "major"],
  ];
  test.each(cases)("%p → %p", (bumps, strongest) => {
    expect(strongestBump(bumps)).toBe(strongest);
  });
});
