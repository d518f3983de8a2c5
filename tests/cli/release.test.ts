/**
 * `build`, `publish`, `promote`, `integrate` and `known-good`, in-process, for everything decided
 * before Docker or a registry is asked: required flags and bad values (exit 2). The Docker and
 * registry paths are in tests/deploy/compose.test.ts and pipeline.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../../lib/paths";
import { deploy } from "./support";

describe("release commands reject bad usage with exit 2", () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["build without --service", ["build"], /--service is required/],
    ["build of an unknown service", ["build", "--service=service3"], /--service must be one of service1, service2/],
    ["build with a two-part version", ["build", "--service=service1", "--version=1.2"], /is not a release version/],
    ["publish without a version", ["publish", "--service=service1"], /--version is required/],
    [
      "publish without a destination",
      ["publish", "--service=service1", "--version=1.0.0"],
      /publish needs a destination: --registry=R .* and\/or --archive_dir=DIR/,
    ],
    [
      "publish to a registry with a scheme",
      ["publish", "--service=service1", "--version=1.0.0", "--registry=http://x"],
      /--registry="http:\/\/x" is not allowed/,
    ],
    [
      "promote without a destination",
      ["promote", "--service=service2", "--version=1.0.0"],
      /promote needs --registry=R .* and\/or --archive_dir=DIR/,
    ],
    [
      "promote with an unknown flag",
      ["promote", "--servce=service2"],
      /unknown flag --servce; did you mean --service\?/,
    ],
    [
      "integrate against known-good without a registry",
      ["integrate", "--service=service2", "--version=1.0.0"],
      /integrate --other_version=known-good pulls the other service from a registry: give --registry=R/,
    ],
    [
      "version --write with --sync",
      ["version", "--service=service1", "--write", "--sync"],
      /--write and --sync both set the version in package.json/,
    ],
    [
      "an untrusted archive allowed without archives",
      ["--allow_untrusted_archive", "--dry-run"],
      /--allow_untrusted_archive applies to archives only; give --from_archive=DIR too/,
    ],
    ["integrate without a version", ["integrate", "--service=service2"], /--version is required/],
    [
      "integrate against a bad other version",
      ["integrate", "--service=service2", "--version=1.0.0", "--registry=127.0.0.1:5000/t", "--other_version=latest"],
      /--other_version="latest" is not a version/,
    ],
    [
      "known-good without a registry",
      ["--version_service1=known-good", "--dry-run"],
      /--version_service1=known-good names the image promoted in a registry or an archive directory; give --registry=R .* or --from_archive=DIR/,
    ],
  ];
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const r = await deploy(args);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
    });
  }

  test("known-good with a registry plans a pull from the known-good repository", async () => {
    const r = await deploy([
      "--version_service2=known-good",
      "--registry=127.0.0.1:5000/timekit",
      "--dry-run",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout).plan;
    expect(plan.services.service2).toMatchObject({
      version: "known-good",
      image: "127.0.0.1:5000/timekit/known-good/service2:latest",
      source: { kind: "registry", registry: "127.0.0.1:5000/timekit" },
    });
    expect(plan.services.service1.source).toEqual({ kind: "build" });
  });

  test("known-good with an archive directory plans a load from its signed known-good record", async () => {
    const dir = mkdtempSync(join(tmpdir(), "timekit-release-cli-"));
    try {
      const r = await deploy(["--version_service1=known-good", `--from_archive=${dir}`, "--dry-run", "--json"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const source = JSON.parse(r.stdout).plan.services.service1.source;
      expect(source).toMatchObject({ kind: "archive", dir, trust: { allowUntrusted: false } });
      expect(source.trust.keyDirs).toEqual([join(REPO_ROOT, "release-keys"), expect.stringMatching(/trusted-keys$/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
