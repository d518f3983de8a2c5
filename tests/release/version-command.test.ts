/** `deploy.ts version` as a process: output, --write, --tag, and exit code 2 for usage mistakes. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VersionReport } from "../../lib/release/report";
import { createGitFixture, type GitFixture } from "./git-fixture";

// Each case starts Bun and git processes: seconds apiece on a busy 2-core machine.
setDefaultTimeout(60_000);

const REPO_ROOT = join(import.meta.dir, "..", "..");
const STANDALONE = join(import.meta.dir, "fixtures", "version-command.ts");
const DEPLOY = join(REPO_ROOT, "deploy.ts");

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function run(entry: string, args: string[], cwd: string): Promise<Run> {
  const child = Bun.spawn([process.execPath, entry, ...args], {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...Bun.env, NO_COLOR: "1" },
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, stdout, stderr };
}

let repo: GitFixture;
beforeAll(async () => {
  repo = await createGitFixture();
  await repo.commit("feat(service2): format with locales", { "service2/src/app.ts": "2\n" });
  await repo.commit("docs: service1 notes", { "service1/src/app.ts": "1\n" });
});
afterAll(() => repo.cleanup());

describe("version command output", () => {
  test("--json reports the plan without changing anything", async () => {
    const result = await run(STANDALONE, ["--service=service2", "--json"], repo.dir);
    expect(result.exitCode).toBe(0);
    const report: VersionReport = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      service: "service2",
      current: "1.0.0",
      lastTag: null,
      release: true,
      bump: "minor",
      next: "1.1.0",
      tag: "service2-v1.1.0",
      written: [],
      tagged: false,
    });
    expect(report.commits.map((c) => [c.header, c.bump])).toContainEqual([
      "feat(service2): format with locales",
      "minor",
    ]);
    expect((await repo.git("tag", "--list")).trim()).toBe("");
  });

  test("says plainly when there is nothing to release, and exits 0", async () => {
    const result = await run(STANDALONE, ["--service", "service1"], repo.dir);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("service1: no release; 1.0.0 stays");
  });

  test("--write --tag writes the version and creates the annotated tag; asking again finds nothing", async () => {
    const other = await createGitFixture();
    try {
      await other.commit("fix: s1", { "service1/src/app.ts": "x\n" });
      const result = await run(STANDALONE, ["--service=service1", "--write", "--tag"], other.dir);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain("service1: 1.0.0 -> 1.0.1 (patch;");
      expect(result.stdout).toContain("wrote 1.0.1 to service1/package.json");
      expect(result.stdout).toContain("as service1-v1.0.1");
      const manifest = JSON.parse(await readFile(join(other.dir, "service1/package.json"), "utf8"));
      expect(manifest.version).toBe("1.0.1");
      expect((await other.git("cat-file", "-t", "service1-v1.0.1")).trim()).toBe("tag");

      const again = await run(STANDALONE, ["--service=service1", "--json"], other.dir);
      expect(JSON.parse(again.stdout)).toMatchObject({ release: false, current: "1.0.1", lastTag: "service1-v1.0.1" });
    } finally {
      await other.cleanup();
    }
  });
});

describe("version command usage errors exit 2 naming the flag", () => {
  const cases: Array<[args: string[], stderr: RegExp]> = [
    [["--servce=service1"], /unknown flag --servce; did you mean --service\?/],
    [["--service=service1", "--wrte"], /unknown flag --wrte; did you mean --write\?/],
    [["--service=service3"], /--service must be one of service1, service2; got "service3"/],
    [[], /--service is required/],
    [["--service=service1", "--json=maybe"], /--json is a switch/],
    [["--service=service1", "extra"], /unexpected argument "extra"/],
  ];
  test.each(cases)("%p", async (args, stderr) => {
    const result = await run(STANDALONE, args, repo.dir);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(stderr);
    expect(result.stdout).toBe("");
  });
});

describe("version command failures", () => {
  test("outside a git repository: exit 1 with the reason", async () => {
    const dir = await mkdtemp(join(tmpdir(), "timekit-not-a-repo-"));
    try {
      const result = await run(STANDALONE, ["--service=service1"], dir);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/deploy\.ts version: git rev-parse --show-toplevel failed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("mounted in deploy.ts", () => {
  test("bun deploy.ts version --service=S --json answers the same as the command alone", async () => {
    const mounted = await run(DEPLOY, ["version", "--service=service2", "--json"], repo.dir);
    const alone = await run(STANDALONE, ["--service=service2", "--json"], repo.dir);
    expect(mounted.stderr).toBe("");
    expect(mounted.exitCode).toBe(0);
    expect(JSON.parse(mounted.stdout)).toEqual(JSON.parse(alone.stdout));
  });

  test("an unknown flag exits 2 with a suggestion", async () => {
    const result = await run(DEPLOY, ["version", "--service=service2", "--tga"], repo.dir);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--tga.*did you mean --tag\?/);
  });
});
