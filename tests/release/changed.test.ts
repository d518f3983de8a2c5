/** Which services a file or a change belongs to, for versioning and for CI. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectChangedServices, githubOutputLines, servicesTouchedBy } from "../../lib/release/changed";
import { fileBelongsTo } from "../../lib/release/services";
import type { ServiceName } from "../../lib/services";
import { createGitFixture, type GitFixture } from "./git-fixture";

// Real repositories and script runs: git and Bun processes take seconds on a busy machine.
setDefaultTimeout(60_000);

const SCRIPT = join(import.meta.dir, "..", "..", "scripts", "changed-services.ts");

describe("which service a file belongs to", () => {
  const cases: Array<[file: string, release: ServiceName[], ci: ServiceName[]]> = [
    ["service1/src/app.ts", ["service1"], ["service1"]],
    ["service1/package.json", ["service1"], ["service1"]],
    ["service1/src/contract.ts", ["service1", "service2"], ["service1", "service2"]],
    ["service2/src/format.ts", ["service2"], ["service2"]],
    ["packages/runtime/src/serve.ts", ["service1", "service2"], ["service1", "service2"]],
    ["bun.lock", ["service1", "service2"], ["service1", "service2"]],
    ["package.json", ["service1", "service2"], ["service1", "service2"]],
    ["tsconfig.json", ["service1", "service2"], ["service1", "service2"]],
    ["bunfig.toml", ["service1", "service2"], ["service1", "service2"]],
    ["Dockerfile", ["service1", "service2"], ["service1", "service2"]],
    [".dockerignore", ["service1", "service2"], ["service1", "service2"]],
    ["scripts/build.ts", ["service1", "service2"], ["service1", "service2"]],
    ["lib/images/rootfs.ts", ["service1", "service2"], ["service1", "service2"]],
    ["lib/services.ts", ["service1", "service2"], ["service1", "service2"]],
    ["lib/images/docker.ts", [], ["service1", "service2"]],
    // Pipeline files re-run every Docker suite but never bump a version.
    ["deploy.ts", [], ["service1", "service2"]],
    ["compose.yaml", [], ["service1", "service2"]],
    ["lib/deploy/up.ts", [], ["service1", "service2"]],
    ["tests/docker/images.test.ts", [], ["service1", "service2"]],
    [".github/workflows/ci.yml", [], ["service1", "service2"]],
    // Neither.
    ["README.md", [], []],
    ["docs/pipeline.md", [], []],
    ["scripts/dev.ts", [], []],
    ["tests/integration/services.test.ts", [], []],
    [".github/workflows/deploy.yml", [], []],
    ["service10/src/app.ts", [], []],
    ["packages/runtime-extra/x.ts", [], []],
    ["service1", [], []],
    ["sub/bun.lock", [], []],
  ];
  test.each(cases)("%s → release %p, ci %p", (file, release, ci) => {
    expect(servicesTouchedBy([file], "release")).toEqual(release);
    expect(servicesTouchedBy([file], "ci")).toEqual(ci);
    expect(fileBelongsTo("service2", file, "release")).toBe(release.includes("service2"));
  });
});

describe("githubOutputLines", () => {
  test("gives a matrix list, an any flag and one flag per service", () => {
    expect(githubOutputLines({ services: ["service2"], reason: "", files: [] })).toEqual([
      'services=["service2"]',
      "any=true",
      "service1=false",
      "service2=true",
    ]);
    expect(githubOutputLines({ services: [], reason: "", files: [] })).toContain("any=false");
  });
});

describe("detectChangedServices over a real history", () => {
  let repo: GitFixture;
  let base: string;
  const heads: Record<string, string> = {};

  beforeAll(async () => {
    repo = await createGitFixture();
    base = (await repo.git("rev-parse", "HEAD")).trim();
    heads.docs = await repo.commit("docs: readme", { "README.md": "more\n" });
    heads.service2 = await repo.commit("feat: s2", { "service2/src/app.ts": "2\n" });
    heads.contract = await repo.commit("fix: contract", { "service1/src/contract.ts": "c\n" });
  });
  afterAll(() => repo.cleanup());

  test("a docs-only change touches no service", async () => {
    const changed = await detectChangedServices(repo.dir, base, heads.docs as string);
    expect(changed.services).toEqual([]);
    expect(changed.files).toEqual(["README.md"]);
  });

  test("a service2 change touches service2 only", async () => {
    expect((await detectChangedServices(repo.dir, heads.docs as string, heads.service2 as string)).services).toEqual([
      "service2",
    ]);
  });

  test("the range is cumulative and service1's contract touches both", async () => {
    expect((await detectChangedServices(repo.dir, base, heads.contract as string)).services).toEqual([
      "service1",
      "service2",
    ]);
  });

  test("only what the head side changed counts, not what the base moved on with (three-dot diff)", async () => {
    await repo.git("checkout", "--quiet", "-b", "topic", heads.docs as string);
    const topic = await repo.commit("fix: runtime", { "packages/runtime/src/index.ts": "t\n" });
    await repo.git("checkout", "--quiet", "main");
    const changed = await detectChangedServices(repo.dir, heads.contract as string, topic);
    expect(changed.files).toEqual(["packages/runtime/src/index.ts"]);
  });

  const unknownBases: Array<[label: string, base: string]> = [
    ["empty", ""],
    ["all zeros (new branch push)", "0000000000000000000000000000000000000000"],
    ["missing from the clone", "1234567890abcdef1234567890abcdef12345678"],
    ["option-like", "--output=/tmp/x"],
  ];
  test.each(unknownBases)("an unknown base (%s) counts every service as changed", async (_label, unknown) => {
    const changed = await detectChangedServices(repo.dir, unknown, heads.docs as string);
    expect(changed.services).toEqual(["service1", "service2"]);
    expect(changed.reason).toContain("unavailable");
  });

  test("an unknown head is an error, not a guess", async () => {
    await expect(detectChangedServices(repo.dir, base, "nope")).rejects.toThrow(/head "nope" is not a commit/);
  });

  test("the script prints JSON and appends to $GITHUB_OUTPUT", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "timekit-gh-output-"));
    const outputFile = join(outDir, "output");
    try {
      const child = Bun.spawn(
        [process.execPath, SCRIPT, `--base=${heads.docs}`, `--head=${heads.service2}`, "--github-output"],
        { cwd: repo.dir, stdout: "pipe", stderr: "pipe", env: { ...Bun.env, GITHUB_OUTPUT: outputFile } },
      );
      const [stdout, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited]);
      expect(exitCode).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ services: ["service2"], any: true });
      expect(await readFile(outputFile, "utf8")).toBe(
        'services=["service2"]\nany=true\nservice1=false\nservice2=true\n',
      );
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });

  test("the script's --pending-release lists services with unreleased releasable commits", async () => {
    const child = Bun.spawn([process.execPath, SCRIPT, "--pending-release"], {
      cwd: repo.dir,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    expect(exitCode).toBe(0);
    // feat in service2 and fix in the contract (service1's and service2's).
    expect(JSON.parse(stdout).services).toEqual(["service1", "service2"]);
  });

  const usageCases: Array<[args: string[], stderr: RegExp]> = [
    [[], /give either --base=<rev>/],
    [["--base=HEAD", "--pending-release"], /give either --base=<rev>/],
    [["--bsae=HEAD"], /unknown flag --bsae; did you mean --base\?/],
  ];
  test.each(usageCases)("the script rejects %p with exit 2", async (args, stderr) => {
    const child = Bun.spawn([process.execPath, SCRIPT, ...args], { cwd: repo.dir, stdout: "pipe", stderr: "pipe" });
    const [err, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    expect(exitCode).toBe(2);
    expect(err).toMatch(stderr);
  });
});
