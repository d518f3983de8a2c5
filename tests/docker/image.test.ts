/**
 * The service images, built from the working tree with no container registry (the builder is
 * the official Bun image only if the engine already holds it, else one assembled from the local
 * Bun), checked as built and as run: contents, identity, metadata, read-only root, health, size.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage, officialBuilderImage } from "../../lib/images/build";
import { BUILDER_REPOSITORY, pinnedBunVersion } from "../../lib/images/builder";
import { buildkitClient } from "../../lib/images/docker";
import { SERVICES, type ServiceName } from "../../lib/services";
import { recordReliability } from "../reliability/record";
import { REPO_ROOT } from "../support/compose";
import {
  docker,
  inspect,
  removeContainers,
  requireDocker,
  run,
  startContainer,
  waitHealthy,
  waitServing,
} from "../support/docker";
import {
  candidateImage,
  compiledRuntimeBytes,
  expectedMetadata,
  TEST_METADATA,
  type TestImages,
  testImageRef,
  testImages,
} from "../support/images";
import { listTar, type TarEntry } from "../support/tar";

const hasDocker = await requireDocker("docker image suite");
const BINARY = "/usr/local/bin/service";
const MB = 1024 * 1024;
/** Generous: a guard against hangs on a loaded two-core machine, never a timing assertion. */
const HANG_GUARD_MS = 120_000;
const OFFLINE_PROBE = "timekit-test/offline-install:latest";

let images: TestImages;
const containers: string[] = [];

/** Every entry of an image's filesystem (from `docker export` of a created, never started container). */
async function imageFiles(image: string): Promise<TarEntry[]> {
  const id = await docker(["create", "--label", "timekit.test=true", image]);
  containers.push(id);
  const child = Bun.spawn(["docker", "export", id], { stdout: "pipe", stderr: "pipe" });
  const entries = await listTar(child.stdout);
  expect(await child.exited).toBe(0);
  // Docker adds these to every container; they are not part of the image.
  const runtime = /^\/(\.dockerenv|dev|proc|sys|etc\/(hostname|hosts|resolv\.conf|mtab))(\/|$)/;
  return entries.filter((entry) => !runtime.test(entry.path));
}

/** Runs the binary inside a container as the Bun CLI (BUN_BE_BUN), to look around from within. */
async function evalInside(image: string, code: string, options: string[] = []): Promise<string> {
  return docker([
    "run",
    "--rm",
    "--label",
    "timekit.test=true",
    "--env",
    "BUN_BE_BUN=1",
    "--entrypoint",
    BINARY,
    ...options,
    image,
    "-e",
    code,
  ]);
}

describe.skipIf(!hasDocker)("service images", () => {
  beforeAll(async () => {
    images = await testImages();
  }, 900_000);

  afterAll(async () => {
    await removeContainers(containers);
  }, HANG_GUARD_MS);

  test(
    "both build with no registry: the builder is the official image only if already present, else the local one",
    async () => {
      const official = await officialBuilderImage();
      const officialPresent = (await run(["docker", "image", "inspect", official])).exitCode === 0;
      for (const service of SERVICES) {
        const image = images[service];
        expect(image.id).toMatch(/^sha256:[0-9a-f]{64}$/);
        const candidate = await candidateImage(service);
        if (candidate) {
          // A release candidate is tested as built by the release job, not rebuilt here.
          expect(image.id).toBe(candidate.id);
          continue;
        }
        if (!Bun.env.BUN_IMAGE) {
          expect(image.builderSource).toBe(officialPresent ? "official" : "local");
          if (!officialPresent) expect(image.builderImage).toBe(`${BUILDER_REPOSITORY}:${await pinnedBunVersion()}`);
        }
      }
    },
    HANG_GUARD_MS,
  );

  test.each([...SERVICES])(
    "%s: image config runs the binary as UID 65532 with a HEALTHCHECK, SIGTERM and port 8080",
    async (service) => {
      const config = (await inspect(testImageRef(service as ServiceName))).Config;
      expect(config.User).toBe("65532:65532");
      expect(config.Entrypoint).toEqual([BINARY]);
      expect(config.Cmd).toBeNull();
      expect(config.Healthcheck.Test).toEqual(["CMD", BINARY, "--healthcheck"]);
      expect(config.StopSignal).toBe("SIGTERM");
      expect(Object.keys(config.ExposedPorts)).toEqual(["8080/tcp"]);
    },
    HANG_GUARD_MS,
  );

  test.each([...SERVICES])(
    "%s: OCI labels carry version, revision, creation time and source",
    async (service) => {
      const { labels } = images[service as ServiceName];
      const expected = await expectedMetadata(service as ServiceName);
      expect(labels).toMatchObject({
        "org.opencontainers.image.title": `timekit-${service}`,
        "org.opencontainers.image.version": expected.version,
        "org.opencontainers.image.revision": expected.commit,
        "org.opencontainers.image.created": expected.created,
        "org.opencontainers.image.source": expected.sourceUrl,
      });
      expect(labels["io.timekit.sbom.digest"]).toMatch(/^sha256:[0-9a-f]{64}$/);
    },
    HANG_GUARD_MS,
  );

  test.each([...SERVICES])(
    "%s: the filesystem is the binary, its shared libraries, passwd/group and /tmp: no shell, no setuid, nothing writable",
    async (service) => {
      const entries = await imageFiles(testImageRef(service as ServiceName));
      const files = entries.filter((e) => e.type !== "dir");
      const paths = files.map((e) => e.path).sort();
      const libraries = paths.filter((p) => /^\/(usr\/)?lib(64)?\/.+\.so(\.\d+)*$/.test(p));
      expect(paths).toEqual([...libraries, "/etc/group", "/etc/passwd", BINARY].sort());
      // libc, libm, libpthread, libdl and the loader (amd64 or arm64 names alike).
      expect(libraries.length).toBeGreaterThanOrEqual(2);
      expect(libraries.length).toBeLessThanOrEqual(6);
      expect(paths.filter((p) => /\/(sh|bash|ash|dash|busybox)$/.test(p))).toEqual([]);
      for (const entry of entries) {
        expect({ path: entry.path, setid: entry.mode & 0o6000 }).toEqual({ path: entry.path, setid: 0 });
        expect({ path: entry.path, uid: entry.uid, gid: entry.gid }).toEqual({ path: entry.path, uid: 0, gid: 0 });
        const worldWritable = (entry.mode & 0o002) !== 0;
        expect({ path: entry.path, worldWritable }).toEqual({ path: entry.path, worldWritable: entry.path === "/tmp" });
        if (entry.type === "file")
          expect({ path: entry.path, ownerWritable: (entry.mode & 0o200) !== 0 }).toEqual({
            path: entry.path,
            ownerWritable: false,
          });
      }
      expect((entries.find((e) => e.path === "/tmp")?.mode ?? 0) & 0o7777).toBe(0o1777);
    },
    HANG_GUARD_MS,
  );

  test(
    "there is no /bin/sh to run",
    async () => {
      const out = await run([
        "docker",
        "run",
        "--rm",
        "--label",
        "timekit.test=true",
        "--entrypoint",
        "/bin/sh",
        testImageRef("service1"),
        "-c",
        "true",
      ]);
      expect(out.exitCode).not.toBe(0);
      expect(out.stderr).toMatch(/no such file or directory/i);
    },
    HANG_GUARD_MS,
  );

  test(
    "the process runs as nonroot (UID/GID 65532, named in /etc/passwd) with no capabilities",
    async () => {
      const out = await evalInside(
        testImageRef("service1"),
        `const fs = require("fs");
       const status = fs.readFileSync("/proc/self/status", "utf8");
       console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), home: process.env.HOME,
         passwd: fs.readFileSync("/etc/passwd", "utf8").split("\\n").filter((l) => l.includes(":65532:")),
         capEff: status.match(/CapEff:\\s*(\\w+)/)[1] }))`,
        ["--cap-drop", "ALL"],
      );
      expect(JSON.parse(out)).toEqual({
        uid: 65532,
        gid: 65532,
        home: "/nonexistent",
        passwd: ["nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin"],
        capEff: "0000000000000000",
      });
    },
    HANG_GUARD_MS,
  );

  test(
    "serves with a read-only root and no tmpfs at all, in any TZ, and cannot write anywhere",
    async () => {
      const container = await startContainer(
        {
          image: testImageRef("service1"),
          options: ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true"],
          env: { TZ: "America/New_York" },
          publish: true,
        },
        containers,
      );
      await waitServing(`${container.url}/healthz`);
      const before = Date.now();
      const body = (await (await fetch(`${container.url}/v1/timestamp`)).json()) as { epochMs: number; iso: string };
      expect(Math.abs(body.epochMs - before)).toBeLessThan(60_000);
      expect(body.iso).toBe(new Date(body.epochMs).toISOString());
      const writes = await docker([
        "exec",
        "--env",
        "BUN_BE_BUN=1",
        container.id,
        BINARY,
        "-e",
        `const fs = require("fs"); const out = {};
       for (const p of ["/x", "/tmp/x", "/etc/x"]) { try { fs.writeFileSync(p, "x"); out[p] = "written"; } catch (e) { out[p] = e.code; } }
       console.log(JSON.stringify(out))`,
      ]);
      expect(JSON.parse(writes)).toEqual({ "/x": "EROFS", "/tmp/x": "EROFS", "/etc/x": "EROFS" });
    },
    HANG_GUARD_MS,
  );

  test(
    "HEALTHCHECK turns healthy, and --healthcheck fails where nothing listens",
    async () => {
      const container = await startContainer(
        { image: testImageRef("service2"), options: ["--read-only", "--health-interval", "1s"] },
        containers,
      );
      await waitHealthy(container.id);
      const log = (await inspect(container.id)).State.Health.Log as { ExitCode: number }[];
      expect(log.at(-1)?.ExitCode).toBe(0);
      const idle = await run([
        "docker",
        "run",
        "--rm",
        "--label",
        "timekit.test=true",
        "--env",
        "PORT=9",
        testImageRef("service1"),
        "--healthcheck",
      ]);
      expect(idle.exitCode).toBe(1);
    },
    HANG_GUARD_MS,
  );

  test(
    "a bad setting stops the container with exit code 2 and one line naming it",
    async () => {
      const out = await run([
        "docker",
        "run",
        "--rm",
        "--label",
        "timekit.test=true",
        "--env",
        "PORT=http",
        testImageRef("service2"),
      ]);
      expect(out.exitCode).toBe(2);
      const lines = `${out.stdout}${out.stderr}`.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain("PORT");
    },
    HANG_GUARD_MS,
  );

  test(
    "the image adds less than 5 MB to the compiled service binary",
    async () => {
      for (const service of SERVICES) {
        const files = await imageFiles(testImageRef(service));
        const binary = files.find((e) => e.path === BINARY)?.size ?? 0;
        expect(binary).toBeGreaterThan(50 * MB);
        expect(images[service].size - binary).toBeLessThan(5 * MB);
      }
    },
    HANG_GUARD_MS,
  );

  test(
    "image size is within the budget: the Bun runtime + 5 MB",
    async () => {
      const runtime = await compiledRuntimeBytes();
      const budget = runtime + 5 * MB;
      const mib = (bytes: number) => Number((bytes / MB).toFixed(1));
      const sizes = SERVICES.map((service) => ({ service, mib: mib(images[service].size) }));
      console.log(`image sizes ${JSON.stringify(sizes)}; Bun runtime ${mib(runtime)} MiB; budget ${mib(budget)} MiB`);
      const over = sizes.filter((s) => s.mib > mib(budget));
      if (over.length > 0 && (await Bun.file(join(REPO_ROOT, "scripts/build.ts")).text()).includes('"--bytecode"')) {
        console.log(
          "note: scripts/build.ts compiles with --bytecode, which stores precompiled bytecode in every binary",
        );
      }
      expect(over).toEqual([]);
    },
    HANG_GUARD_MS,
  );
});

describe.skipIf(!hasDocker)("image builds and caching", () => {
  let context = "";
  beforeAll(() => {
    // A copy of exactly what the build reads, so the test can change a source file.
    context = mkdtempSync(join(tmpdir(), "timekit-context-"));
    for (const path of [
      "Dockerfile",
      ".dockerignore",
      "package.json",
      "bun.lock",
      "bunfig.toml",
      "tsconfig.json",
      "packages",
      "service1",
      "service2",
      "scripts/build.ts",
      "lib/services.ts",
      "lib/images",
    ]) {
      cpSync(join(REPO_ROOT, path), join(context, path), {
        recursive: true,
        filter: (source) => !source.includes("node_modules"),
      });
    }
  }, HANG_GUARD_MS);
  afterAll(async () => {
    rmSync(context, { recursive: true, force: true });
    await run(["docker", "image", "rm", "timekit-test/service1:source-change", OFFLINE_PROBE]);
  }, HANG_GUARD_MS);

  test("a source-only change re-uses the dependency layer", async () => {
    await testImages();
    writeFileSync(
      join(context, "service1/src/main.ts"),
      `${await Bun.file(join(context, "service1/src/main.ts")).text()}\n// ${Date.now()}\n`,
    );
    const lines: string[] = [];
    const started = performance.now();
    await buildImage({
      service: "service1",
      context,
      tags: ["timekit-test/service1:source-change"],
      ...TEST_METADATA,
      onProgress: (line) => lines.push(line),
    });
    const rebuildMs = Math.round(performance.now() - started);
    const stepOf = (pattern: RegExp) => lines.find((l) => pattern.test(l))?.match(/^#(\d+) /)?.[1];
    const install = stepOf(/\[builder .*RUN .*"bun", "install"/);
    const compile = stepOf(/\[builder .*RUN \["bun", "lib\/images\/builder-stage.ts"\]/);
    await recordReliability("image-rebuild", {
      change: "one line appended to service1/src/main.ts",
      dependencyLayerReused: lines.includes(`#${install} CACHED`),
      compileReRun: !lines.includes(`#${compile} CACHED`),
      rebuildMs,
    });
    expect(install).toBeDefined();
    expect(compile).toBeDefined();
    expect(lines).toContain(`#${install} CACHED`);
    expect(lines).not.toContain(`#${compile} CACHED`);
  }, 600_000);

  test("cache import/export settings are passed to buildx, and said to be skipped by a client without it", async () => {
    await testImages();
    const client = await buildkitClient();
    const lines: string[] = [];
    await buildImage({
      service: "service1",
      tags: [testImageRef("service1")],
      ...TEST_METADATA,
      cacheFrom: "type=local,src=/nonexistent-timekit-cache",
      onProgress: (line) => lines.push(line),
    });
    const note = lines.find((line) => line.includes("cannot import or export a BuildKit cache"));
    if (client.buildx) expect(note).toBeUndefined();
    else expect(note).toContain("building without cache-from");
  }, 600_000);

  test("the dependency install works with no network at all once the build cache is warm", async () => {
    await testImages();
    // The real Dockerfile up to its install step, with that step's layer cache busted.
    const real = await Bun.file(join(REPO_ROOT, "Dockerfile")).text();
    const installEnd = real.indexOf("\n", real.indexOf('["bun", "install"'));
    const dockerfile = real
      .slice(0, installEnd + 1)
      .replace(/^COPY package\.json /m, "ARG CACHE_BUST\nCOPY package.json ");
    const file = join(context, "Dockerfile.offline");
    writeFileSync(file, dockerfile);
    const client = await buildkitClient();
    const build = await run(
      [
        ...client.argv,
        "--progress=plain",
        "--network=none",
        "--file",
        file,
        "--build-arg",
        `BUN_IMAGE=${images.service1.builderImage}`,
        "--build-arg",
        `CACHE_BUST=${Date.now()}`,
        "--tag",
        OFFLINE_PROBE,
        context,
      ],
      { env: client.env, timeoutMs: 600_000 },
    );
    const output = `${build.stdout}\n${build.stderr}`;
    expect(output).toMatch(/\d+ packages installed/);
    expect(build.exitCode).toBe(0);
  }, 600_000);
});
