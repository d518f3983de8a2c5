/** Versioning against real git histories: each service is versioned from its own paths only. */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createReleaseTag, planRelease, writeServiceVersion } from "../../lib/release/version";
import type { ServiceName } from "../../lib/services";
import { createGitFixture, type GitFixture } from "./git-fixture";

// Each case makes a repository with several git processes: seconds on a busy 2-core machine.
setDefaultTimeout(60_000);

const fixtures: GitFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

async function fixture(options?: Parameters<typeof createGitFixture>[0]): Promise<GitFixture> {
  const f = await createGitFixture(options);
  fixtures.push(f);
  return f;
}

async function nextVersions(dir: string): Promise<Record<ServiceName, string | null>> {
  const [s1, s2] = await Promise.all([planRelease(dir, "service1"), planRelease(dir, "service2")]);
  return { service1: s1.next?.version ?? null, service2: s2.next?.version ?? null };
}

type Step = [message: string, files: string[]];

describe("next version of each service from the commits that touched its paths (both start at 1.0.0)", () => {
  const cases: Array<[name: string, steps: Step[], expected: Record<ServiceName, string | null>]> = [
    ["nothing releasable yet", [], { service1: null, service2: null }],
    ["fix in service1 only", [["fix: a", ["service1/src/app.ts"]]], { service1: "1.0.1", service2: null }],
    ["feat in service2 only", [["feat: b", ["service2/src/app.ts"]]], { service1: null, service2: "1.1.0" }],
    ["breaking in service2 only", [["feat!: c", ["service2/src/app.ts"]]], { service1: null, service2: "2.0.0" }],
    [
      "feat in the shared runtime counts for both",
      [["feat(runtime): d", ["packages/runtime/src/index.ts"]]],
      { service1: "1.1.0", service2: "1.1.0" },
    ],
    [
      "service1's contract belongs to service2 as well",
      [["fix(contract): e", ["service1/src/contract.ts"]]],
      { service1: "1.0.1", service2: "1.0.1" },
    ],
    [
      "the rest of service1 does not belong to service2",
      [["feat!: f", ["service1/src/app.ts"]]],
      { service1: "2.0.0", service2: null },
    ],
    ["root build inputs count for both", [["fix: g", ["bun.lock"]]], { service1: "1.0.1", service2: "1.0.1" }],
    [
      "non-releasing types change nothing, even in service paths",
      [
        ["chore: h", ["service1/src/app.ts"]],
        ["docs: i", ["service2/src/app.ts"]],
        ["test: j", ["packages/runtime/src/index.ts"]],
      ],
      { service1: null, service2: null },
    ],
    [
      "releasing commits outside every service path change nothing",
      [["feat: k", ["README.md", "docs/x.md", "service10/src/app.ts"]]],
      { service1: null, service2: null },
    ],
    [
      "the strongest commit per service wins",
      [
        ["fix: l", ["service1/src/app.ts"]],
        ["feat: m", ["service2/src/app.ts"]],
        ["fix: n", ["packages/runtime/src/index.ts"]],
        ["feat!: o", ["service1/src/app.ts"]],
      ],
      { service1: "2.0.0", service2: "1.1.0" },
    ],
  ];

  test.each(cases)("%s", async (_name, steps, expected) => {
    const repo = await fixture();
    for (const [message, files] of steps) {
      await repo.commit(message, Object.fromEntries(files.map((f) => [f, `${message}\n`])));
    }
    expect(await nextVersions(repo.dir)).toEqual(expected);
  });
});

describe("release tags", () => {
  test("releasing service2 alone leaves service1's plan exactly as it was", async () => {
    const repo = await fixture();
    await repo.commit("fix: s1", { "service1/src/app.ts": "1\n" });
    await repo.commit("feat: s2", { "service2/src/app.ts": "2\n" });
    const service1Before = await planRelease(repo.dir, "service1");

    const plan = await planRelease(repo.dir, "service2");
    expect(await createReleaseTag(repo.dir, plan)).toBe("service2-v1.1.0");
    expect((await repo.git("cat-file", "-t", "service2-v1.1.0")).trim()).toBe("tag"); // annotated
    expect((await repo.git("rev-parse", "service2-v1.1.0^{commit}")).trim()).toBe(plan.commit);

    expect(await nextVersions(repo.dir)).toEqual({ service1: "1.0.1", service2: null });
    expect(await planRelease(repo.dir, "service1")).toEqual(service1Before);
  });

  test("after a tag only newer commits count, on top of the tagged version", async () => {
    const repo = await fixture();
    await repo.commit("feat: a", { "service1/src/app.ts": "a\n" });
    await createReleaseTag(repo.dir, await planRelease(repo.dir, "service1"));
    await repo.commit("fix: b", { "service1/src/app.ts": "b\n" });

    const plan = await planRelease(repo.dir, "service1");
    expect(plan.lastTag).toBe("service1-v1.1.0");
    expect(plan.current).toBe("1.1.0");
    expect(plan.next).toEqual({ bump: "patch", version: "1.1.1" });
    expect(plan.commits.map((c) => c.header)).toEqual(["fix: b"]);
  });

  test("a tag on a branch that was never merged is not this history's release", async () => {
    const repo = await fixture();
    await repo.git("checkout", "--quiet", "-b", "experiment");
    await repo.commit("feat: experiment", { "service1/src/app.ts": "x\n" });
    await repo.git("tag", "--annotate", "service1-v9.0.0", "--message", "not ours");
    await repo.git("checkout", "--quiet", "main");
    await repo.commit("fix: real", { "service1/src/app.ts": "y\n" });

    const plan = await planRelease(repo.dir, "service1");
    expect(plan.lastTag).toBeNull();
    expect(plan.next?.version).toBe("1.0.1");
  });

  test("pre-release and malformed tags are not releases", async () => {
    const repo = await fixture();
    await repo.git("tag", "service1-v3.0.0-rc.1");
    await repo.git("tag", "service1-v2.0");
    await repo.commit("fix: a", { "service1/src/app.ts": "a\n" });
    expect((await planRelease(repo.dir, "service1")).next?.version).toBe("1.0.1");
  });

  test("with no tag the committed package.json version is the start, with pre-1.0 rules", async () => {
    const repo = await fixture({ service1Version: "0.3.1", service2Version: "2.5.0" });
    await repo.commit("feat!: everything changed", { "packages/runtime/src/index.ts": "2\n" });
    expect(await nextVersions(repo.dir)).toEqual({ service1: "0.4.0", service2: "3.0.0" });
  });

  test("creating a tag that exists fails instead of moving it", async () => {
    const repo = await fixture();
    await repo.commit("fix: a", { "service1/src/app.ts": "a\n" });
    const plan = await planRelease(repo.dir, "service1");
    // Someone else took the tag name meanwhile, on another commit.
    await repo.git("tag", "service1-v1.0.1", "HEAD~1");
    await expect(createReleaseTag(repo.dir, plan)).rejects.toThrow(/already exists/);
  });

  test("a plan with nothing to release creates no tag", async () => {
    const repo = await fixture();
    const plan = await planRelease(repo.dir, "service1");
    await expect(createReleaseTag(repo.dir, plan)).rejects.toThrow(/nothing to release/);
    expect((await repo.git("tag", "--list")).trim()).toBe("");
  });
});

describe("writeServiceVersion", () => {
  test("writes package.json and bun.lock, and the plan (read from git) does not move", async () => {
    const repo = await fixture();
    await repo.commit("feat: a", { "service2/src/app.ts": "a\n" });
    const before = await planRelease(repo.dir, "service2");

    const written = await writeServiceVersion(repo.dir, "service2", "1.1.0");
    expect(written).toEqual(["service2/package.json", "bun.lock"]);
    expect(JSON.parse(await readFile(join(repo.dir, "service2/package.json"), "utf8")).version).toBe("1.1.0");
    const lock = await readFile(join(repo.dir, "bun.lock"), "utf8");
    expect(lock).toContain('"name": "@timekit/service2",\n      "version": "1.1.0"');
    expect(lock).toContain('"name": "@timekit/service1",\n      "version": "1.0.0"');

    expect(await planRelease(repo.dir, "service2")).toEqual(before);
    expect(JSON.parse(await readFile(join(repo.dir, "service1/package.json"), "utf8")).version).toBe("1.0.0");
  });
});
