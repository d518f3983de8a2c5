/**
 * Release simulations: the release workflow's steps (release.yml), run with the same
 * `bun deploy.ts` commands in the same order, in a temporary git repository made from this
 * working tree, against a real registry (`docker-registry` on 127.0.0.1) and an archive
 * directory. Only `gh release create`, which creates the tag on GitHub, is played by
 * `version --tag`. Images live in a namespace of their own (TIMEKIT_IMAGE_NAMESPACE), so no
 * `timekit/*` image is touched; this checkout's git state and tags are never changed.
 *
 * In order, sharing the registry, the builds and the stack:
 * 1. the first release, on an empty registry, of a change to both services: each integrated with
 *    the other's candidate, then both promoted;
 * 2. a candidate failing integration (nothing published, known-good unchanged), then a `fix:` →
 *    released cleanly under the same version;
 * 3. a failure injected after each step of a release, each followed by a re-run (a job re-runs
 *    from its start): the release completes, publish pushes nothing new, known-good moves once;
 * 4. a no-cache rebuild of the released commit gives the same image id and manifest digest;
 * 5. `up --from_archive`: a tampered, re-hashed archive and an unsigned one are refused with the
 *    stack untouched; an archive carrying a foreign tag deploys without touching that tag;
 *    `rollback --to=known-good`, and the usual troubles (port in use, registry unreachable, no
 *    Compose) exit 1 with the fix while the stack keeps serving.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { archivePaths } from "../../lib/images/archive-paths";
import { buildImage } from "../../lib/images/build";
import { gzipFile, readImageArchive, sha256, writeDockerArchive } from "../../lib/images/image-files";
import { writeOciLayout } from "../../lib/images/oci-layout";
import { newKeyPair, signingKeyFromPem, signStatement, trustedKeys, verifyEnvelope } from "../../lib/images/signing";
import { otherService, type ServiceName } from "../../lib/services";
import { freePort, requireDocker, run, uniqueName } from "../support/docker";
import {
  answers,
  type CliResult,
  cli,
  containerIds,
  type Registry,
  ROOT,
  registryDigests,
  removeProject,
  startRegistry,
} from "./helpers";

const hasDocker = await requireDocker("release simulations");
const work = mkdtempSync(join(tmpdir(), "timekit-test-pipeline2-"));
const repo = join(work, "repo");
const archives = join(work, "archives");
const stateDir = join(work, "state");
/** Every image the simulations build, tag or load lives here, and is removed afterwards. */
const NAMESPACE = `timekit-test-pipeline2-${process.pid}`;
/** The CI signing key: a repository secret in the workflow, its public half committed in release-keys/. */
const ciKey = newKeyPair();
const env = {
  TIMEKIT_STATE_DIR: stateDir,
  TIMEKIT_IMAGE_NAMESPACE: NAMESPACE,
  TIMEKIT_SIGNING_KEY: ciKey.privateKeyPem,
  // Builds in the temporary repository take their commit from its git.
  BUILD_COMMIT: "",
};
const inRepo = cli(env, repo);
const stack = uniqueName("pipeline2");
const port = freePort();
let registry: Registry | undefined;
let R = "";
let projects = 0;

const json = <T>(result: CliResult, what: string): T => {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
};

async function git(args: string[], cwd = repo): Promise<string> {
  const out = await run(["git", ...args], { cwd, timeoutMs: 60_000 });
  if (out.exitCode !== 0) throw new Error(`git ${args.join(" ")} in ${cwd} failed: ${out.stderr}`);
  return out.stdout.trim();
}

/** The working tree (tracked and untracked, not ignored) as a fresh repository, with the CI key trusted. */
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
  // The CLI needs only npm packages from it; images build from the repository's own files.
  symlinkSync(join(ROOT, "node_modules"), join(repo, "node_modules"));
  mkdirSync(join(repo, "release-keys"), { recursive: true });
  writeFileSync(join(repo, "release-keys", "ci.pub"), ciKey.publicKeyPem);
  await git(["init", "-q", "-b", "main"]);
  await git(["config", "user.name", "timekit test"]);
  await git(["config", "user.email", "test@timekit.invalid"]);
  await git(["add", "-A"]);
  await git(["commit", "-q", "-m", "chore: import the working tree"]);
}

async function commitChange(message: string, file: string, edit: (text: string) => string): Promise<void> {
  const path = join(repo, file);
  writeFileSync(path, edit(readFileSync(path, "utf8")));
  await git(["commit", "-q", "-am", message]);
}

interface VersionReport {
  release: boolean;
  next: string | null;
  current: string;
  lastTag: string | null;
  tag: string | null;
  synced: string[];
}
interface Published {
  id: string;
  subjects: Array<{ name: string; digest: string }>;
  registry: { repository: string; digest: string; tags: string[]; unchanged: boolean };
  archive: { file: string; sha256: string; unchanged: boolean };
}
interface Integrated {
  result: string;
  candidate: { digest: string };
  other: { service: string; version: string; digest: string };
}

type ReleaseStage = "build" | "integrate" | "publish";
type PromoteStage = "promote" | "tag";

/** The plan job's commit: main's tip when the run starts (jobs check it out, not main). */
const planCommit = () => git(["rev-parse", "main"]);

/** Runs a job's steps in a checkout of `commit`, as actions/checkout does; back on main after. */
async function atCommit<T>(commit: string, steps: () => Promise<T>): Promise<T> {
  await git(["checkout", "-q", "--detach", commit]);
  try {
    return await steps();
  } finally {
    await git(["checkout", "-q", "main"]);
  }
}

/**
 * The release job of release.yml for one service: version → build → (the Docker suite on the
 * candidate: tests/docker, run by .ci/run) → integrate → publish. Stops after `failAfter`, as a
 * failure there would; returns what each stage reported.
 */
function releaseJob(service: ServiceName, pending: ServiceName[], commit: string, failAfter?: ReleaseStage) {
  return atCommit(commit, () => releaseSteps(service, pending, failAfter));
}

async function releaseSteps(service: ServiceName, pending: ServiceName[], failAfter?: ReleaseStage) {
  const version = json<VersionReport>(await inRepo(["version", `--service=${service}`, "--json"]), "version");
  if (!version.release || !version.next) return { version: null };
  const v = version.next;
  json(await inRepo(["build", `--service=${service}`, `--version=${v}`, "--json", "--quiet"]), "build");
  if (failAfter === "build") return { version: v };
  const other = pending.includes(otherService(service)) ? "candidate" : "known-good";
  const integrated = json<Integrated>(
    await inRepo([
      "integrate",
      `--service=${service}`,
      `--version=${v}`,
      `--registry=${R}`,
      `--other_version=${other}`,
      `--project=${NAMESPACE}-integrate-${++projects}`,
      "--json",
      "--quiet",
    ]),
    "integrate",
  );
  if (failAfter === "integrate") return { version: v, integrated };
  const published = json<Published>(
    await inRepo([
      "publish",
      `--service=${service}`,
      `--version=${v}`,
      `--registry=${R}`,
      `--archive_dir=${archives}`,
      "--json",
      "--quiet",
    ]),
    "publish",
  );
  return { version: v, integrated, published };
}

/**
 * The promote job at the plan's `commit`: version (or, after the tag, the release it completed)
 * → promote → the tag → the record, committed on main's tip.
 */
async function promoteJob(service: ServiceName, commit: string, failAfter?: PromoteStage) {
  const version = await atCommit(commit, async () => {
    const report = json<VersionReport>(await inRepo(["version", `--service=${service}`, "--json"]), "version");
    const v = report.release ? (report.next as string) : report.current;
    if (!report.release && (await git(["rev-parse", `${report.lastTag}^{commit}`])) !== commit) {
      throw new Error(`${service} has nothing to release at ${commit}`);
    }
    const args = [`--service=${service}`, `--version=${v}`, `--registry=${R}`, `--archive_dir=${archives}`];
    json(await inRepo(["promote", ...args, "--json", "--quiet"]), "promote");
    if (failAfter === "promote") return null;
    // gh release create "$TAG" --target "$COMMIT" makes the tag on GitHub; here, version --tag.
    if (report.release) json(await inRepo(["version", `--service=${service}`, "--tag", "--json"]), "tag");
    return failAfter === "tag" ? null : v;
  });
  if (version === null) return;
  const synced = json<VersionReport>(await inRepo(["version", `--service=${service}`, "--sync", "--json"]), "sync");
  if (synced.synced.length > 0) {
    await git(["add", "--", ...synced.synced]);
    await git(["commit", "-q", "-m", `chore(release): ${service}-v${version}`]);
  }
  return version;
}

/** A manifest or blob from the test registry, by its HTTP API (loopback, no TLS). */
async function registryGet(path: string): Promise<Uint8Array> {
  const host = R.split("/")[0];
  const name = R.split("/").slice(1).join("/");
  const accept = ["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json"].join(", ");
  const response = await fetch(`http://${host}/v2/${name}/${path}`, { headers: { accept } });
  if (response.status !== 200) throw new Error(`GET ${path}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * What publish wrote about a release, checked from the outside: the signed provenance beside the
 * archive verifies with the CI key and names the archive's and the pushed manifest's sha256;
 * the registry lists the SBOM and the provenance as referrers of the image; the SBOM's digest is
 * the one the image's label names.
 */
async function checkProvenanceAndSbom(service: ServiceName, published: Published): Promise<void> {
  const paths = archivePaths(archives, service, "1.1.0");
  const envelope = readFileSync(paths.provenance, "utf8");
  const trusted = trustedKeys([join(repo, "release-keys")]);
  const verified = verifyEnvelope(envelope, trusted, paths.provenance);
  expect(verified.kind).toBe("trusted");
  const statement = verified.statement as { subject: Array<{ name: string; digest: { sha256: string } }> };
  const archiveHex = new Bun.CryptoHasher("sha256").update(readFileSync(paths.archive)).digest("hex");
  expect(statement.subject).toEqual([
    { name: basename(paths.archive), digest: { sha256: archiveHex } },
    { name: `${R}/${service}`, digest: { sha256: published.registry.digest.slice(7) } },
  ]);
  const index = JSON.parse(
    new TextDecoder().decode(await registryGet(`${service}/manifests/${published.registry.digest.replace(":", "-")}`)),
  ) as { manifests: Array<{ digest: string }> };
  const referrers = await Promise.all(
    index.manifests.map(async (m) =>
      JSON.parse(new TextDecoder().decode(await registryGet(`${service}/manifests/${m.digest}`))),
    ),
  );
  expect(referrers.map((r) => [r.artifactType, r.subject.digest])).toEqual([
    ["application/vnd.cyclonedx+json", published.registry.digest],
    ["application/vnd.in-toto+json", published.registry.digest],
  ]);
  const sbom = await registryGet(`${service}/blobs/${referrers[0].layers[0].digest}`);
  expect(sha256(sbom)).toBe(referrers[0].layers[0].digest);
  expect(new TextDecoder().decode(sbom)).toBe(readFileSync(paths.sbom, "utf8"));
  const labels = JSON.parse(
    (await run(["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", published.id])).stdout,
  ) as Record<string, string>;
  expect(labels["io.timekit.sbom.digest"]).toBe(sha256(sbom));
  const provenance = await registryGet(`${service}/blobs/${referrers[1].layers[0].digest}`);
  expect(new TextDecoder().decode(provenance)).toBe(envelope);
}

const knownGood = async (service: ServiceName) => (await registryDigests(`${R}/known-good/${service}`)).latest ?? null;

describe.skipIf(!hasDocker)("release simulations against a real registry", () => {
  beforeAll(async () => {
    registry = await startRegistry();
    R = registry.repo;
    await makeRepo();
  }, 600_000);

  afterAll(async () => {
    await inRepo(["down", `--project=${stack}`, "--force_unlock", "--quiet"]);
    await removeProject(stack);
    for (let n = 1; n <= projects; n++) await removeProject(`${NAMESPACE}-integrate-${n}`);
    await registry?.stop();
    const images = await run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"]);
    const ours = images.stdout
      .split("\n")
      .filter((ref) => ref.startsWith(`${NAMESPACE}/`) || (R !== "" && ref.startsWith(R.split("/")[0] as string)));
    if (ours.length) await run(["docker", "image", "rm", "-f", ...ours], { timeoutMs: 120_000 });
    rmSync(work, { recursive: true, force: true });
  }, 300_000);

  let release1: Record<ServiceName, Awaited<ReturnType<typeof releaseJob>>>;

  test("1. the first release on an empty registry: a change to both, integrated together, promoted together", async () => {
    await commitChange(
      "feat(runtime): a change both services ship",
      "packages/runtime/src/index.ts",
      (t) => `${t}\n// both\n`,
    );
    const pending: ServiceName[] = ["service1", "service2"];
    expect(await knownGood("service1")).toBeNull();
    const commit = await planCommit();
    release1 = {
      service1: await releaseJob("service1", pending, commit),
      service2: await releaseJob("service2", pending, commit),
    };
    for (const service of pending) {
      const { version, integrated, published } = release1[service];
      expect(version).toBe("1.1.0");
      // Integrated with the other's candidate: the very image the other's job publishes.
      expect(integrated?.other).toMatchObject({
        version: "1.1.0",
        digest: release1[otherService(service)].published?.id,
      });
      expect(integrated?.candidate.digest).toBe(published?.id as string);
      expect(published?.registry.unchanged).toBe(false);
    }
    await checkProvenanceAndSbom("service2", release1.service2.published as Published);
    for (const service of pending) expect(await promoteJob(service, commit)).toBe("1.1.0");
    for (const service of pending) {
      expect(await knownGood(service)).toBe(release1[service].published?.registry.digest as string);
      expect(existsSync(join(archives, `${service}-known-good.intoto.jsonl`))).toBe(true);
    }
    expect(await git(["tag", "--list"])).toBe("service1-v1.1.0\nservice2-v1.1.0");
    const log = await git(["log", "--format=%s", "-3"]);
    expect(log.split("\n")).toEqual([
      "chore(release): service2-v1.1.0",
      "chore(release): service1-v1.1.0",
      "feat(runtime): a change both services ship",
    ]);
    expect(JSON.parse(readFileSync(join(repo, "service2/package.json"), "utf8")).version).toBe("1.1.0");
    expect(readFileSync(join(repo, "service1/CHANGELOG.md"), "utf8")).toContain(
      "- **runtime:** a change both services ship",
    );
    // Floating tags moved at promotion; the release repository has no latest.
    const tags = await registryDigests(`${R}/service1`);
    expect([tags["1.1"], tags["1"]]).toEqual([tags["1.1.0"], tags["1.1.0"]]);
    expect(tags.latest).toBeUndefined();
  }, 1_200_000);

  test("2. a candidate failing integration publishes nothing; a fix: is then released cleanly", async () => {
    const service1Before = await registryDigests(`${R}/service1`);
    const goodService2 = await knownGood("service2");
    await commitChange(
      "feat(service2): a feature that breaks the service",
      "service2/src/main.ts",
      (t) => `process.exit(70);\n${t}`,
    );
    const failing = await inRepo(["version", "--service=service2", "--json"]);
    expect(json<VersionReport>(failing, "version").next).toBe("1.2.0");
    json(await inRepo(["build", "--service=service2", "--version=1.2.0", "--quiet", "--json"]), "build");
    const integrate = await inRepo([
      "integrate",
      "--service=service2",
      "--version=1.2.0",
      `--registry=${R}`,
      `--project=${NAMESPACE}-integrate-${++projects}`,
      "--health_timeout=30s",
      "--quiet",
    ]);
    expect(integrate.code).toBe(1);
    expect(integrate.stderr).toContain("integration failed: service2 1.2.0 with service1 known-good");
    expect(integrate.stderr).toContain("the candidate is not published");
    expect(await containerIds(`${NAMESPACE}-integrate-${projects}`, "service2")).toEqual([]);
    expect((await registryDigests(`${R}/service2`))["1.2.0"]).toBeUndefined();
    expect(existsSync(archivePaths(archives, "service2", "1.2.0").archive)).toBe(false);
    expect(await knownGood("service2")).toBe(goodService2);

    await commitChange("fix(service2): do not exit at start", "service2/src/main.ts", (t) =>
      t.replace("process.exit(70);\n", ""),
    );
    const commit = await planCommit();
    const fixed = await releaseJob("service2", ["service2"], commit);
    expect(fixed.version).toBe("1.2.0");
    expect(fixed.integrated?.other).toMatchObject({ service: "service1", version: "1.1.0" });
    expect(fixed.published?.registry.unchanged).toBe(false);
    expect(await promoteJob("service2", commit)).toBe("1.2.0");
    expect(await knownGood("service2")).toBe(fixed.published?.registry.digest as string);
    expect(readFileSync(join(repo, "service2/CHANGELOG.md"), "utf8")).toMatch(
      /## 1\.2\.0[\s\S]*🚀 Enhancements[\s\S]*🩹 Fixes/,
    );
    expect(await registryDigests(`${R}/service1`)).toEqual(service1Before);
  }, 1_200_000);

  let release3: Published;

  test("3. a failure after each step, then a re-run: the release completes, nothing is published twice", async () => {
    const service2Before = await registryDigests(`${R}/service2`);
    const knownGoodBefore = await knownGood("service1");
    await commitChange("fix(service1): a fix to release", "service1/src/main.ts", (t) => `${t}\n// fix\n`);
    const commit = await planCommit();
    // The release job fails after build, after integrate, after publish; each failure is re-run.
    for (const stage of ["build", "integrate", "publish"] as const) {
      const attempt = await releaseJob("service1", ["service1"], commit, stage);
      expect(attempt.version).toBe("1.1.1");
      expect(await knownGood("service1")).toBe(knownGoodBefore);
    }
    const first = (await registryDigests(`${R}/service1`))["1.1.1"];
    expect(first).toMatch(/^sha256:/);
    const rerun = await releaseJob("service1", ["service1"], commit);
    release3 = rerun.published as Published;
    expect(release3.registry).toMatchObject({ digest: first, tags: [], unchanged: true });
    expect(release3.archive.unchanged).toBe(true);
    // The promote job fails after promote, then after the tag; each re-run completes it.
    expect(await promoteJob("service1", commit, "promote")).toBeUndefined();
    expect(await knownGood("service1")).toBe(first as string);
    expect(await promoteJob("service1", commit, "tag")).toBeUndefined();
    expect(await git(["tag", "--list", "service1-*"])).toBe("service1-v1.1.0\nservice1-v1.1.1");
    expect(await git(["rev-parse", "service1-v1.1.1^{commit}"])).toBe(commit);
    expect(await promoteJob("service1", commit)).toBe("1.1.1");
    // Once more, after it completed: nothing left to do, nothing changes.
    expect(await promoteJob("service1", commit)).toBe("1.1.1");
    // Exactly one record commit, the registry's digests as first published, service2 untouched.
    expect(
      (await git(["log", "--format=%s"])).split("\n").filter((s) => s === "chore(release): service1-v1.1.1"),
    ).toHaveLength(1);
    expect((await registryDigests(`${R}/service1`))["1.1.1"]).toBe(first as string);
    expect(await registryDigests(`${R}/service2`)).toEqual(service2Before);
    expect(json<VersionReport>(await inRepo(["version", "--service=service1", "--json"]), "version").release).toBe(
      false,
    );
  }, 1_200_000);

  test("4. a no-cache rebuild of the released commit: the same image id and manifest digest", async () => {
    await git(["checkout", "-q", "service1-v1.1.1"]);
    try {
      const lines: string[] = [];
      const rebuilt = await buildImage({
        service: "service1",
        version: "1.1.1",
        context: repo,
        tags: [`${NAMESPACE}/service1:no-cache`],
        noCache: true,
        onProgress: (line) => lines.push(line),
      });
      // The install and the compile ran again; neither came from the build cache.
      const stepOf = (pattern: RegExp) => lines.find((l) => pattern.test(l))?.match(/^#(\d+) /)?.[1];
      const steps = [
        stepOf(/\[builder .*RUN .*"bun", "install"/),
        stepOf(/\[builder .*RUN \["bun", "lib\/images\/builder-stage.ts"\]/),
      ];
      expect(steps.every((step) => step !== undefined)).toBe(true);
      for (const step of steps) expect(lines).not.toContain(`#${step} CACHED`);
      expect(rebuilt.id).toBe(release3.id);
      const saved = join(work, "rebuilt.tar");
      expect((await run(["docker", "save", "-o", saved, rebuilt.id], { timeoutMs: 300_000 })).exitCode).toBe(0);
      const files = await readImageArchive(saved, join(work, "rebuilt"));
      const layout = await writeOciLayout(join(work, "rebuilt-oci"), files, "1.1.1");
      expect(layout.manifest.digest).toBe(release3.registry.digest);
    } finally {
      await git(["checkout", "-q", "main"]);
    }
  }, 1_200_000);

  const upStack = (args: string[], extra: Record<string, string> = {}, on = port) =>
    inRepo([`--project=${stack}`, `--port=${on}`, "--quiet", ...args], extra);

  test("5a. up --from_archive refuses a tampered, re-hashed archive and an unsigned one; nothing changes", async () => {
    const bad = join(work, "bad-archives");
    mkdirSync(bad);
    const good = archivePaths(archives, "service1", "1.1.1");
    const copy = archivePaths(bad, "service1", "1.1.1");
    copyFileSync(good.archive, copy.archive);
    copyFileSync(good.provenance, copy.provenance);
    // A different image under the same name, with a checksum file to match.
    copyFileSync(archivePaths(archives, "service1", "1.1.0").archive, copy.archive);
    const forged = new Bun.CryptoHasher("sha256").update(readFileSync(copy.archive)).digest("hex");
    writeFileSync(copy.checksum, `${forged}  ${basename(copy.archive)}\n`);
    for (const f of Object.values(archivePaths(archives, "service2", "1.2.0"))) copyFileSync(f, join(bad, basename(f)));
    const ourImages = async () =>
      (
        await run([
          "docker",
          "images",
          "--filter",
          `reference=${NAMESPACE}/*`,
          "--format",
          "{{.Repository}}:{{.Tag}} {{.ID}}",
        ])
      ).stdout
        .split("\n")
        .sort();
    const imagesBefore = await ourImages();
    let r = await upStack([`--from_archive=${bad}`, "--version_service1=1.1.1", "--version_service2=1.2.0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("does not match its signed provenance");
    expect(r.stderr).toContain("fix: the archive was changed after it was signed");
    rmSync(copy.provenance);
    r = await upStack([`--from_archive=${bad}`, "--version_service1=1.1.1", "--version_service2=1.2.0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${copy.archive} is not signed: there is no service1-1.1.1.intoto.jsonl beside it`);
    expect(r.stderr).toContain("fix: copy the .intoto.jsonl published with it");
    expect(await containerIds(stack, "service1")).toEqual([]);
    expect(await ourImages()).toEqual(imagesBefore);
  }, 300_000);

  test("5b. an archive carrying a foreign tag deploys under its own tag only: the foreign tag is untouched", async () => {
    const foreign = `${NAMESPACE}/someone-elses:keep`;
    const service2Id = (
      await run(["docker", "image", "inspect", "--format", "{{.Id}}", `${NAMESPACE}/service2:1.2.0`])
    ).stdout.trim();
    await run(["docker", "tag", service2Id, foreign]);
    // A trusted publisher's archive whose manifest asks docker load for the foreign tag too.
    const dir = join(work, "foreign-archives");
    mkdirSync(dir);
    const paths = archivePaths(dir, "service1", "1.1.1");
    const image = await readImageArchive(archivePaths(archives, "service1", "1.1.1").archive, join(work, "foreign"));
    const tar = join(work, "foreign.tar");
    await writeDockerArchive(tar, image, [`${NAMESPACE}/service1:1.1.1`, foreign]);
    const { digest } = await gzipFile(tar, paths.archive);
    const statement = JSON.parse(
      Buffer.from(
        JSON.parse(readFileSync(archivePaths(archives, "service1", "1.1.1").provenance, "utf8")).payload,
        "base64",
      ).toString(),
    );
    statement.subject = [{ name: basename(paths.archive), digest: { sha256: digest.slice(7) } }];
    writeFileSync(
      paths.provenance,
      `${JSON.stringify(signStatement(statement, signingKeyFromPem(ciKey.privateKeyPem, "ci")))}\n`,
    );
    for (const f of Object.values(archivePaths(archives, "service2", "1.2.0"))) copyFileSync(f, join(dir, basename(f)));
    await run(["docker", "image", "rm", `${NAMESPACE}/service1:1.1.1`]);

    const r = await upStack([`--from_archive=${dir}`, "--version_service1=1.1.1", "--version_service2=1.2.0"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect((await run(["docker", "image", "inspect", "--format", "{{.Id}}", foreign])).stdout.trim()).toBe(service2Id);
    expect((await run(["docker", "image", "inspect", `${NAMESPACE}/service1:1.1.1`])).exitCode).not.toBe(0);
    const status = JSON.parse((await inRepo(["status", "--json", `--project=${stack}`])).stdout);
    expect(status.services.service1).toMatchObject({
      version: "1.1.1",
      digest: sha256(image.config),
      health: "healthy",
    });
    expect(await answers(port)).toBe(true);
  }, 300_000);

  test("5c. rollback --to=known-good puts service2 back at the digest promoted in known-good/service2", async () => {
    const r = await inRepo([
      "rollback",
      `--project=${stack}`,
      "--service=service2",
      "--to=known-good",
      `--registry=${R}`,
      "--quiet",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const status = JSON.parse((await inRepo(["status", "--json", `--project=${stack}`])).stdout);
    expect(status.services.service2).toMatchObject({
      version: "1.2.0",
      digest: await knownGood("service2"),
      health: "healthy",
    });
    expect(status.services.service2.image).toStartWith(`${R}/known-good/service2@sha256:`);
    expect(await answers(port)).toBe(true);
  }, 300_000);

  test("5d. port in use, registry unreachable, no Compose: exit 1 with the fix; the stack keeps serving", async () => {
    const before = { service1: await containerIds(stack, "service1"), service2: await containerIds(stack, "service2") };
    const versions = ["--version_service1=1.1.1", "--version_service2=1.2.0", `--registry=${R}`];
    const busy = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("taken") });
    try {
      const r = await upStack(versions, {}, busy.port as number);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${busy.port} on 127.0.0.1 is in use by another program`);
      expect(r.stderr).toContain("fix: stop what listens on it");
    } finally {
      busy.stop(true);
    }
    const nowhere = `127.0.0.1:${freePort()}/timekit`;
    let r = await upStack(["--version_service1=1.1.1", "--version_service2=1.2.0", `--registry=${nowhere}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`registry ${nowhere.split("/")[0]} is unreachable`);
    r = await inRepo(["promote", "--service=service2", "--version=1.2.0", `--registry=${nowhere}`, "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is unreachable");
    r = await upStack(versions, { TIMEKIT_COMPOSE: "/nonexistent/docker-compose" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TIMEKIT_COMPOSE="/nonexistent/docker-compose" does not run Docker Compose');
    expect(await containerIds(stack, "service1")).toEqual(before.service1);
    expect(await containerIds(stack, "service2")).toEqual(before.service2);
    expect(await answers(port)).toBe(true);
  }, 300_000);
});
