/**
 * `build`, `publish`, `promote` and `known-good` as users run them, for everything decided before
 * Docker or a registry is asked: required flags, bad values (exit 2), the tags a version gets,
 * the SBOM read from bun.lock. The Docker and registry paths are in registry.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { releaseTags, shaTag } from "../../lib/deploy/release";
import { serviceSbom } from "../../lib/deploy/sbom";

const ROOT = resolve(import.meta.dir, "../..");

function deploy(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawnSync(["bun", "deploy.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, REGISTRY: "", ...env },
    stdout: "pipe",
    stderr: "pipe",
    timeout: 15_000,
  });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

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
    ["promote without a registry", ["promote", "--service=service2", "--version=1.0.0"], /promote needs --registry/],
    [
      "promote with an unknown flag",
      ["promote", "--servce=service2"],
      /unknown flag --servce; did you mean --service\?/,
    ],
    [
      "integrate without a registry",
      ["integrate", "--service=service2", "--version=1.0.0"],
      /integrate needs --registry/,
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
      /--version_service1=known-good names the image promoted in a registry; give --registry/,
    ],
  ];
  for (const [name, args, message] of cases) {
    test(name, () => {
      const r = deploy(args);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
    });
  }

  test("known-good with a registry plans a pull of the known-good tag", () => {
    const r = deploy(["--version_service2=known-good", "--registry=127.0.0.1:5000/timekit", "--dry-run", "--json"]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout).plan;
    expect(plan.services.service2).toMatchObject({
      version: "known-good",
      image: "127.0.0.1:5000/timekit/service2:known-good",
      source: { kind: "registry", registry: "127.0.0.1:5000/timekit" },
    });
    expect(plan.services.service1.source).toEqual({ kind: "build" });
  });
});

describe("release tags", () => {
  test("a stable version gets X.Y.Z, X.Y, X and sha-<commit>", () => {
    expect(releaseTags("1.4.2", "0123456789ab")).toEqual(["1.4.2", "1.4", "1", "sha-0123456"]);
  });
  test("a pre-release gets no floating tag", () => {
    expect(releaseTags("2.0.0-rc.1", "0123456789ab")).toEqual(["2.0.0-rc.1", "sha-0123456"]);
  });
  test("an uncommitted tree gets no sha tag", () => {
    expect(shaTag("0123456789ab-dirty")).toBeNull();
    expect(releaseTags("1.0.0", "unknown")).toEqual(["1.0.0", "1.0", "1"]);
  });
});

describe("SBOM from bun.lock", () => {
  const meta = { version: "1.0.0", commit: "0123456789ab", created: "2026-01-01T00:00:00.000Z" };
  test("service2 lists its own and the shared runtime's production dependencies, not dev tools", () => {
    const sbom = serviceSbom(ROOT, "service2", meta) as { components: Array<{ name: string; purl: string }> };
    const names = sbom.components.map((c) => c.name);
    expect(names).toContain("elysia");
    expect(names).toContain("luxon");
    expect(names).toContain("pino");
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
