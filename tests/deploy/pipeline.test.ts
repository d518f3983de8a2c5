/**
 * The local release pipeline for one service, end to end, in a temporary git repository made
 * from this working tree (this checkout's git state and tags are never touched), against a real
 * registry (`docker-registry`) on 127.0.0.1 and an archive directory:
 *
 * a `fix(service2)` commit → version --write --tag → build → image checks → publish → integrate
 * (candidate beside service1's known-good) → promote; service1's version, tags and registry
 * digests are compared before and after. Then, on a long-lived stack: a failing candidate fails
 * integration (exit 1, nothing left behind), `rollback --to=known-good`, and the usual troubles
 * (port in use, registry unreachable, no Compose) exit 1 with the fix while the stack keeps
 * serving.
 *
 * Tests run in order and share the registry and the stack; afterAll removes everything.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { freePort, requireDocker, run, uniqueName } from "../support/docker";
import {
  answers,
  cli,
  containerIds,
  deriveImage,
  type Registry,
  ROOT,
  registryDigests,
  removeProject,
  startRegistry,
} from "./helpers";

const hasDocker = await requireDocker("release pipeline suite");
const work = mkdtempSync(join(tmpdir(), "timekit-test-pipeline-"));
const repo = join(work, "repo");
const archives = join(work, "archives");
const stateDir = join(work, "state");
const here = cli({ TIMEKIT_STATE_DIR: stateDir });
/** deploy.ts of the temporary repository; its builds take their commit from git. */
const inRepo = cli({ TIMEKIT_STATE_DIR: stateDir, BUILD_COMMIT: "" }, repo);
const stack = uniqueName("pipeline");
const integrationProject = uniqueName("integrate");
const port = freePort();
let registry: Registry | undefined;
let R = "";

/** Versions far from the other suites' (1.x), so no local tag is shared. */
const BASE = "7.3.0";
const NEXT = "7.3.1";

/** git in `cwd` (the temporary repository unless told); only reads are ever run in ROOT. */
async function git(args: string[], cwd = repo): Promise<string> {
  const proc = Bun.spawn(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`git ${args.join(" ")} in ${cwd} failed: ${stderr}`);
  return stdout.trim();
}

/** The working tree (tracked and untracked, not ignored) as a fresh repository with release tags. */
async function makeRepo(): Promise<void> {
  const files = (await git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT))
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    const from = join(ROOT, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(repo, file)), { recursive: true });
    copyFileSync(from, join(repo, file));
  }
  symlinkSync(join(ROOT, "node_modules"), join(repo, "node_modules"));
  if (!existsSync(join(repo, "deploy.ts")) || repo === ROOT) throw new Error(`${repo} is not a copy of the tree`);
  await git(["init", "-q", "-b", "main"]);
  await git(["config", "user.name", "timekit test"]);
  await git(["config", "user.email", "test@timekit.invalid"]);
  await git(["add", "-A"]);
  await git(["commit", "-q", "-m", "chore: import the working tree"]);
  for (const service of ["service1", "service2"])
    await git(["tag", "-a", `${service}-v${BASE}`, "-m", `${service} ${BASE}`]);
}

const json = <T>(text: string): T => JSON.parse(text) as T;

describe.skipIf(!hasDocker)("the local release pipeline for one service, against a real registry", () => {
  let service1Before: Record<string, string> = {};
  let mainTagsBefore = "";

  beforeAll(async () => {
    mainTagsBefore = await git(["tag", "--list"], ROOT);
    registry = await startRegistry();
    R = registry.repo;
    // service1's last release, published and promoted: one real build (a cache hit when the
    // compose suite ran first), relabelled as BASE.
    const b = await here(["build", "--service=service1", "--version=1.0.0", "--quiet"]);
    if (b.code !== 0) throw new Error(`build service1 failed: ${b.stderr}`);
    await deriveImage("timekit/service1:1.0.0", `timekit/service1:${BASE}`, BASE);
    for (const args of [
      ["publish", "--service=service1", `--version=${BASE}`, `--registry=${R}`, "--quiet"],
      ["promote", "--service=service1", `--version=${BASE}`, `--registry=${R}`, "--quiet"],
    ]) {
      const r = await here(args);
      if (r.code !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
    }
    await makeRepo();
    service1Before = await registryDigests(`${R}/service1`);
  }, 300_000);

  afterAll(async () => {
    for (const project of [stack, integrationProject]) {
      await here(["down", `--project=${project}`, "--force_unlock", "--quiet"]);
      await removeProject(project);
    }
    await registry?.stop();
    const images = await run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"]);
    const ours = images.stdout
      .split("\n")
      .filter((ref) => /^timekit\/service[12]:7\.|^timekit\/service2:7$/.test(ref) || (R !== "" && ref.startsWith(R)));
    if (ours.length) await run(["docker", "image", "rm", ...ours]);
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  test("a fix to service2 alone: version → build → image checks → publish → integrate → promote", async () => {
    await Bun.write(
      join(repo, "service2/src/main.ts"),
      `${readFileSync(join(repo, "service2/src/main.ts"), "utf8")}\n// pipeline test: a service2-only fix\n`,
    );
    await git(["commit", "-q", "-am", "fix(service2): a service2-only change"]);
    const head = await git(["rev-parse", "HEAD"]);

    // version: service2 moves, service1 has nothing to release.
    const v1 = await inRepo(["version", "--service=service1", "--json"]);
    expect(json<{ release: boolean }>(v1.stdout).release).toBe(false);
    const v2 = await inRepo(["version", "--service=service2", "--write", "--tag", "--json"]);
    expect(v2.code).toBe(0);
    expect(json(v2.stdout)).toMatchObject({ release: true, next: NEXT, tag: `service2-v${NEXT}`, tagged: true });
    expect(json<{ version: string }>(readFileSync(join(repo, "service2/package.json"), "utf8")).version).toBe(NEXT);

    // build: tagged X.Y.Z, X.Y, X; labelled with the version and the commit.
    const b = await inRepo(["build", "--service=service2", `--version=${NEXT}`, "--json", "--quiet"]);
    expect(b.code).toBe(0);
    expect(json<{ tags: string[] }>(b.stdout).tags).toEqual(
      expect.arrayContaining(["timekit/service2:7.3.1", "timekit/service2:7.3", "timekit/service2:7"]),
    );
    const labels = json<Record<string, string>>(
      (await run(["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", `timekit/service2:${NEXT}`]))
        .stdout,
    );
    expect(labels["org.opencontainers.image.version"]).toBe(NEXT);
    expect(labels["org.opencontainers.image.revision"]).toStartWith(head.slice(0, 12));

    // publish to the registry and the archive directory.
    const p = await inRepo([
      "publish",
      "--service=service2",
      `--version=${NEXT}`,
      `--registry=${R}`,
      `--archive_dir=${archives}`,
      "--json",
      "--quiet",
    ]);
    expect(p.code).toBe(0);
    const published = json<{ registry: { digest: string }; archive: { file: string; sha256: string } }>(p.stdout);
    expect(published.archive.file).toBe(join(archives, `service2-${NEXT}.tar.gz`));
    const sum = readFileSync(`${published.archive.file}.sha256`, "utf8").split(/\s+/)[0];
    expect(sum).toBe(published.archive.sha256);
    expect(new Bun.CryptoHasher("sha256").update(await Bun.file(published.archive.file).bytes()).digest("hex")).toBe(
      published.archive.sha256,
    );

    // integration: the published candidate beside service1's known-good, end to end.
    const i = await inRepo([
      "integrate",
      "--service=service2",
      `--version=${NEXT}`,
      `--registry=${R}`,
      `--project=${integrationProject}`,
      "--json",
      "--quiet",
    ]);
    expect(i.stderr).toBe("");
    expect(i.code).toBe(0);
    const integration = json<{
      result: string;
      candidate: { digest: string };
      other: { service: string; version: string; digest: string };
    }>(i.stdout);
    expect(integration.result).toBe("passed");
    expect(integration.candidate.digest).toBe(published.registry.digest);
    expect(integration.other).toEqual({
      service: "service1",
      version: BASE,
      image: `${R}/service1@${service1Before["known-good"]}`,
      digest: service1Before["known-good"] as string,
    } as never);
    expect(await containerIds(integrationProject, "service2")).toEqual([]);

    // promote: known-good names the published digest.
    const pr = await inRepo(["promote", "--service=service2", `--version=${NEXT}`, `--registry=${R}`, "--quiet"]);
    expect(pr.code).toBe(0);
    const service2 = await registryDigests(`${R}/service2`);
    expect(service2["known-good"]).toBe(published.registry.digest);
    expect(service2[`known-good-${NEXT}`]).toBe(published.registry.digest);
    expect(service2[NEXT]).toBe(published.registry.digest);

    // service1 untouched: version, tags, registry digests.
    expect(await registryDigests(`${R}/service1`)).toEqual(service1Before);
    expect(await git(["tag", "--list", "service1-*"])).toBe(`service1-v${BASE}`);
    expect(await git(["tag", "--list", "service2-*"])).toBe(`service2-v${BASE}\nservice2-v${NEXT}`);
    expect(await git(["status", "--porcelain", "service1"])).toBe("");
    expect(await git(["tag", "--list"], ROOT)).toBe(mainTagsBefore);
  }, 600_000);

  test("a candidate that fails its health check fails integration with exit 1 and leaves nothing", async () => {
    await deriveImage(`timekit/service2:${NEXT}`, "timekit/service2:7.3.9", "7.3.9", true);
    const p = await here(["publish", "--service=service2", "--version=7.3.9", `--registry=${R}`, "--quiet"]);
    expect(p.code).toBe(0);
    const r = await here([
      "integrate",
      "--service=service2",
      "--version=7.3.9",
      `--registry=${R}`,
      `--project=${integrationProject}`,
      "--health_timeout=45s",
      "--quiet",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("integration failed: service2 7.3.9 with service1 known-good");
    expect(await containerIds(integrationProject, "service1")).toEqual([]);
    expect(await containerIds(integrationProject, "service2")).toEqual([]);
    expect((await registryDigests(`${R}/service2`))["known-good"]).not.toBe(
      (await registryDigests(`${R}/service2`))["7.3.9"],
    );
  }, 300_000);

  const upStack = (args: string[], env: Record<string, string> = {}, on = port) =>
    here([`--project=${stack}`, `--registry=${R}`, `--port=${on}`, "--quiet", ...args], env);

  test("rollback --to=known-good puts service2 back at the promoted digest", async () => {
    await deriveImage(`timekit/service2:${NEXT}`, "timekit/service2:7.4.0", "7.4.0");
    expect((await here(["publish", "--service=service2", "--version=7.4.0", `--registry=${R}`, "--quiet"])).code).toBe(
      0,
    );
    const up = await upStack(["--version_service1=known-good", "--version_service2=7.4.0"]);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    const r = await here([
      "rollback",
      `--project=${stack}`,
      "--service=service2",
      "--to=known-good",
      `--registry=${R}`,
      "--quiet",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const status = json<{ services: Record<string, { version: string; digest: string; health: string }> }>(
      (await here(["status", "--json", `--project=${stack}`])).stdout,
    );
    const promoted = (await registryDigests(`${R}/service2`))["known-good"];
    expect(status.services.service2).toMatchObject({ version: NEXT, digest: promoted, health: "healthy" });
    expect(status.services.service1).toMatchObject({ version: BASE, health: "healthy" });
    expect(await answers(port)).toBe(true);
  }, 300_000);

  test("port in use, registry unreachable, no Compose: exit 1 with the fix; the stack keeps serving", async () => {
    const before = {
      service1: await containerIds(stack, "service1"),
      service2: await containerIds(stack, "service2"),
    };
    const busy = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("taken") });
    try {
      const r = await upStack(["--version_service1=known-good", "--version_service2=7.4.0"], {}, busy.port as number);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${busy.port} on 127.0.0.1 is in use by another program`);
      expect(r.stderr).toContain("fix: stop what listens on it");
    } finally {
      busy.stop(true);
    }

    const nowhere = `127.0.0.1:${freePort()}/timekit`;
    let r = await here([
      `--project=${stack}`,
      `--registry=${nowhere}`,
      `--port=${port}`,
      "--version_service1=7.3.0",
      "--version_service2=7.4.0",
      "--quiet",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`registry ${nowhere.split("/")[0]} is unreachable`);
    expect(r.stderr).toContain("fix: check that the registry runs");
    r = await here(["promote", "--service=service2", `--version=${NEXT}`, `--registry=${nowhere}`, "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is unreachable");

    r = await upStack(["--version_service2=7.4.0"], { TIMEKIT_COMPOSE: "/nonexistent/docker-compose" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TIMEKIT_COMPOSE="/nonexistent/docker-compose" does not run Docker Compose');
    expect(r.stderr).toContain("fix: install the Compose v2 plugin");

    expect(await containerIds(stack, "service1")).toEqual(before.service1);
    expect(await containerIds(stack, "service2")).toEqual(before.service2);
    expect(await answers(port)).toBe(true);
  }, 300_000);
});
