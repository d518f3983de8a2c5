/**
 * What a build says about itself, without Docker: the commit (`-dirty` only for real source
 * changes, not the version numbers `version --write` sets), the per-service cache scope, and
 * the hint a failed build gets (the lockfile only when Bun's frozen-lockfile error is there).
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cacheSetting, explain } from "../../lib/images/build";
import { creationTime, gitCommit } from "../../lib/images/metadata";
import { writeServiceVersion } from "../../lib/release/version";
import { createGitFixture, type GitFixture } from "../release/git-fixture";

setDefaultTimeout(60_000);

const fixtures: GitFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

async function fixture(): Promise<{ f: GitFixture; sha: string }> {
  const f = await createGitFixture();
  fixtures.push(f);
  return { f, sha: (await f.git("rev-parse", "--short=12", "HEAD")).trim() };
}

describe("gitCommit", () => {
  test("a clean tree is the commit", async () => {
    const { f, sha } = await fixture();
    expect(await gitCommit(f.dir)).toBe(sha);
  });

  test("version --write (package.json and bun.lock version lines) does not make a build dirty", async () => {
    const { f, sha } = await fixture();
    expect(await writeServiceVersion(f.dir, "service2", "1.4.0")).toEqual(["service2/package.json", "bun.lock"]);
    expect(await gitCommit(f.dir)).toBe(sha);
  });

  test("any other change does: a source edit, another package.json field, an untracked file", async () => {
    const { f, sha } = await fixture();
    await writeFile(join(f.dir, "service1/src/app.ts"), "export const app = 99;\n");
    expect(await gitCommit(f.dir)).toBe(`${sha}-dirty`);
    await f.git("checkout", "--", ".");
    await writeServiceVersion(f.dir, "service2", "1.4.0");
    const manifest = join(f.dir, "service2/package.json");
    const edited = JSON.parse(await Bun.file(manifest).text());
    await writeFile(manifest, `${JSON.stringify({ ...edited, private: false }, null, 2)}\n`);
    expect(await gitCommit(f.dir)).toBe(`${sha}-dirty`);
    await f.git("checkout", "--", ".");
    await writeFile(join(f.dir, "service2/src/new.ts"), "export {};\n");
    expect(await gitCommit(f.dir)).toBe(`${sha}-dirty`);
  });

  test("the creation time is the commit's, so a rebuild of the commit stamps the same time", async () => {
    const { f } = await fixture();
    const seconds = Number((await f.git("log", "-1", "--format=%ct")).trim());
    expect(await creationTime(f.dir, {})).toBe(new Date(seconds * 1000).toISOString());
    expect(await creationTime(f.dir, { SOURCE_DATE_EPOCH: "1700000000" })).toBe("2023-11-14T22:13:20.000Z");
  });
});

describe("cacheSetting", () => {
  test("{service} becomes the service, so one setting gives each service its own cache scope", () => {
    expect(cacheSetting("type=gha,mode=max,scope=image-{service}", "service2")).toBe(
      "type=gha,mode=max,scope=image-service2",
    );
    expect(cacheSetting("type=registry,ref=r/cache:{service}-{service}", "service1")).toBe(
      "type=registry,ref=r/cache:service1-service1",
    );
    expect(cacheSetting("type=local,src=/c", "service1")).toBe("type=local,src=/c");
    expect(cacheSetting(undefined, "service1")).toBeUndefined();
  });
});

describe("explain: the hint a failed build gets", () => {
  const builder = "timekit/bun-builder:1.4.4";
  test("only Bun's own frozen-lockfile error blames bun.lock", () => {
    const frozen = [
      '#9 [builder 3/9] RUN ["bun", "install", "--frozen-lockfile", "--production"]',
      "#9 0.3 error: lockfile had changes, but lockfile is frozen",
    ].join("\n");
    expect(explain(frozen, builder)).toContain("bun.lock does not match the package.json files");
  });

  test("a failing compile in a build log that mentions --frozen-lockfile is not blamed on bun.lock", () => {
    const compile = [
      '#9 [builder 3/9] RUN ["bun", "install", "--frozen-lockfile", "--production"]',
      "#9 DONE 4.1s",
      '#14 [builder 9/9] RUN ["bun", "lib/images/builder-stage.ts"]',
      '#14 1.2 error: Could not resolve: "./missing"',
    ].join("\n");
    expect(explain(compile, builder)).toBeUndefined();
  });

  test("an unreachable builder image and an unreachable npm registry get their own hints", () => {
    expect(explain("failed to resolve source metadata for docker.io/oven/bun:1.4.4", builder)).toContain(
      "is not in the engine and cannot be pulled",
    );
    expect(explain("error: ConnectionRefused downloading package manifest", builder)).toContain(
      "could not fetch packages",
    );
  });
});
