/**
 * CHANGELOG.md and release notes from real git histories (lib/release/changelog.ts), and
 * `version --notes` / `--sync` as the release workflow runs them: the notes of the release being
 * made, then, after its tag, package.json and CHANGELOG.md brought in line with the tags.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pendingRelease, releaseHistory, renderChangelog, renderRelease } from "../../lib/release/changelog";
import { parseCommitMessage } from "../../lib/release/commits";
import { runVersion } from "../../lib/release/report";
import { createGitFixture, type GitFixture } from "./git-fixture";

setDefaultTimeout(60_000);

const fixtures: GitFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

async function fixture(): Promise<GitFixture> {
  const f = await createGitFixture();
  fixtures.push(f);
  return f;
}

describe("renderRelease", () => {
  test("groups releasable commits like changelogen; chores and docs are left out", () => {
    const commits = [
      parseCommitMessage("1111111aaaa", "feat(service2): a locale parameter"),
      parseCommitMessage("2222222bbbb", "fix: round milliseconds"),
      parseCommitMessage("3333333cccc", "perf(runtime): cache formatters"),
      parseCommitMessage("4444444dddd", "feat(api)!: rename field\n\nBREAKING CHANGE: epoch is now epochMs"),
      parseCommitMessage("5555555eeee", "chore: tidy"),
      parseCommitMessage("6666666ffff", "docs: explain"),
    ];
    expect(renderRelease({ version: "2.0.0", date: "2026-11-29", commits })).toBe(
      [
        "## 2.0.0 (2026-11-29)",
        "",
        "### ⚠️ Breaking Changes",
        "",
        "- **api:** rename field (`4444444`)",
        "",
        "### 🚀 Enhancements",
        "",
        "- **service2:** a locale parameter (`1111111`)",
        "",
        "### 🩹 Fixes",
        "",
        "- round milliseconds (`2222222`)",
        "",
        "### 🔥 Performance",
        "",
        "- **runtime:** cache formatters (`3333333`)",
        "",
      ].join("\n"),
    );
  });
});

describe("a service's history, from its release tags", () => {
  test("each release lists the commits that touched that service since the one before, newest first", async () => {
    const f = await fixture();
    await f.commit("fix(service1): first fix", { "service1/src/app.ts": "export const app = 11;\n" });
    await f.git("tag", "-a", "service1-v1.0.1", "-m", "service1 1.0.1");
    await f.commit("feat(service2): only service2", { "service2/src/app.ts": "export const app = 22;\n" });
    await f.commit("feat(runtime): both", { "packages/runtime/src/index.ts": "export const runtime = 2;\n" });
    await f.git("tag", "-a", "service1-v1.1.0", "-m", "service1 1.1.0");
    await f.commit("fix(service1): unreleased", { "service1/src/app.ts": "export const app = 12;\n" });

    const history = await releaseHistory(f.dir, "service1");
    expect(history.map((r) => [r.version, r.commits.map((c) => c.header)])).toEqual([
      ["1.1.0", ["feat(runtime): both"]],
      // The chore is in the history; the rendered CHANGELOG leaves it out.
      ["1.0.1", ["fix(service1): first fix", "chore: initial layout"]],
    ]);
    expect(history[0]?.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const pending = await pendingRelease(f.dir, "service1", "1.1.1", "service1-v1.1.0");
    expect(pending.commits.map((c) => c.header)).toEqual(["fix(service1): unreleased"]);
    const text = renderChangelog("service1", history);
    expect(text).toStartWith("# Changelog: service1\n");
    expect(text.indexOf("## 1.1.0")).toBeLessThan(text.indexOf("## 1.0.1"));
    expect(text).not.toContain("only service2");
    expect(text).not.toContain("initial layout");
  });
});

describe("version --notes and --sync", () => {
  test("notes of the release being made; after its tag, sync writes the version and CHANGELOG once", async () => {
    const f = await fixture();
    await f.commit("feat(service2): a new pattern", { "service2/src/app.ts": "export const app = 23;\n" });
    const notes = join(f.dir, "..", `${f.dir.split("/").pop()}-notes.md`);
    const planned = await runVersion({ service: "service2", write: false, tag: false, notes, cwd: f.dir });
    expect(planned).toMatchObject({ release: true, next: "1.1.0", notes, synced: [] });
    expect(await readFile(notes, "utf8")).toMatch(
      /^## 1\.1\.0 \(\d{4}-\d{2}-\d{2}\)\n\n### 🚀 Enhancements\n\n- \*\*service2:\*\* a new pattern/,
    );

    // The workflow's GitHub Release creates the tag; here, --tag does.
    await runVersion({ service: "service2", write: false, tag: true, cwd: f.dir });
    const synced = await runVersion({ service: "service2", write: false, tag: false, sync: true, cwd: f.dir });
    expect(synced.release).toBe(false);
    expect(synced.synced).toEqual(["service2/package.json", "bun.lock", "service2/CHANGELOG.md"]);
    expect(JSON.parse(await readFile(join(f.dir, "service2/package.json"), "utf8")).version).toBe("1.1.0");
    expect(await readFile(join(f.dir, "bun.lock"), "utf8")).toContain('"version": "1.1.0"');
    expect(await readFile(join(f.dir, "service2/CHANGELOG.md"), "utf8")).toContain("## 1.1.0");
    // Idempotent: a re-run of the record step finds nothing to change.
    expect(
      (await runVersion({ service: "service2", write: false, tag: false, sync: true, cwd: f.dir })).synced,
    ).toEqual([]);
    // service1 was not released: its package.json stays, its CHANGELOG says there is no release yet.
    const other = await runVersion({ service: "service1", write: false, tag: false, sync: true, cwd: f.dir });
    expect(other.synced).toEqual(["service1/CHANGELOG.md"]);
    expect(JSON.parse(await readFile(join(f.dir, "service1/package.json"), "utf8")).version).toBe("1.0.0");
  });
});
