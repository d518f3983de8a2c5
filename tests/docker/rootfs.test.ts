/**
 * How an image's filesystem is derived, without Docker: the ELF reader finds the loader and the
 * libraries transitively (checked on synthetic arm64 files in a fake root, and on the real Bun),
 * and the rootfs holds exactly those with fixed modes; plus the build metadata and the error a
 * missing engine gives.
 */
import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DeployError } from "../../lib/errors";
import { buildImage } from "../../lib/images/build";
import { dockerAvailable } from "../../lib/images/docker";
import { readElf, runtimeFiles } from "../../lib/images/elf";
import { creationTime, sourceUrl } from "../../lib/images/metadata";
import { assembleRootfs } from "../../lib/images/rootfs";

const AARCH64 = 0xb7;
const scratch = mkdtempSync(join(tmpdir(), "timekit-rootfs-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A minimal 64-bit little-endian ELF: optional PT_INTERP, and DT_NEEDED entries in a PT_DYNAMIC. */
function syntheticElf(options: { machine: number; interpreter?: string; needed?: string[] }): Uint8Array {
  const base = 0x400000;
  const strings = `\0${(options.needed ?? []).join("\0")}\0`;
  const interp = options.interpreter ? `${options.interpreter}\0` : "";
  const phnum = 3;
  const interpOffset = 64 + 56 * phnum;
  const strOffset = interpOffset + interp.length;
  const dynOffset = Math.ceil((strOffset + strings.length) / 8) * 8;
  const needed = options.needed ?? [];
  const dynEntries: [number, number][] = [];
  let at = 1;
  for (const name of needed) {
    dynEntries.push([1, at]);
    at += name.length + 1;
  }
  dynEntries.push([5, base + strOffset], [10, strings.length], [0, 0]);
  const size = dynOffset + dynEntries.length * 16;
  const buffer = Buffer.alloc(size);
  buffer.writeUInt32BE(0x7f454c46, 0);
  buffer[4] = 2;
  buffer[5] = 1;
  buffer[6] = 1;
  buffer.writeUInt16LE(2, 0x10);
  buffer.writeUInt16LE(options.machine, 0x12);
  buffer.writeUInt32LE(1, 0x14);
  buffer.writeBigUInt64LE(64n, 0x20);
  buffer.writeUInt16LE(64, 0x34);
  buffer.writeUInt16LE(56, 0x36);
  buffer.writeUInt16LE(phnum, 0x38);
  const phdr = (index: number, type: number, offset: number, filesz: number) => {
    const p = 64 + index * 56;
    buffer.writeUInt32LE(type, p);
    buffer.writeBigUInt64LE(BigInt(offset), p + 8);
    buffer.writeBigUInt64LE(BigInt(base + offset), p + 16);
    buffer.writeBigUInt64LE(BigInt(base + offset), p + 24);
    buffer.writeBigUInt64LE(BigInt(filesz), p + 32);
    buffer.writeBigUInt64LE(BigInt(filesz), p + 40);
  };
  // Without an interpreter, the slot becomes a harmless PT_NOTE.
  phdr(0, interp ? 3 : 4, interpOffset, interp.length);
  phdr(1, 1, 0, size);
  phdr(2, 2, dynOffset, dynEntries.length * 16);
  buffer.write(interp, interpOffset, "latin1");
  buffer.write(strings, strOffset, "latin1");
  dynEntries.forEach(([tag, value], i) => {
    buffer.writeBigInt64LE(BigInt(tag), dynOffset + i * 16);
    buffer.writeBigUInt64LE(BigInt(value), dynOffset + i * 16 + 8);
  });
  return buffer;
}

function put(root: string, path: string, bytes: Uint8Array | string, mode = 0o755): string {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  chmodSync(file, mode);
  return file;
}

/** A fake arm64 Debian root: loader, libc (a symlink to a versioned file, as some distributions ship), libm needing libc. */
function arm64Root(): { root: string; executable: string } {
  const root = mkdtempSync(join(scratch, "arm64-"));
  const loader = "/lib/ld-linux-aarch64.so.1";
  put(root, loader, syntheticElf({ machine: AARCH64 }));
  put(
    root,
    "/lib/aarch64-linux-gnu/libc-2.36.so",
    syntheticElf({ machine: AARCH64, needed: ["ld-linux-aarch64.so.1"] }),
  );
  symlinkSync("libc-2.36.so", join(root, "/lib/aarch64-linux-gnu/libc.so.6"));
  put(root, "/lib/aarch64-linux-gnu/libm.so.6", syntheticElf({ machine: AARCH64, needed: ["libc.so.6"] }));
  put(root, "/usr/lib/aarch64-linux-gnu/libunused.so.1", syntheticElf({ machine: AARCH64 }));
  const executable = put(
    scratch,
    `app-${Math.random().toString(36).slice(2)}`,
    syntheticElf({ machine: AARCH64, interpreter: loader, needed: ["libm.so.6", "libc.so.6"] }),
    0o4755,
  );
  return { root, executable };
}

describe("ELF dependencies", () => {
  test("reads the loader and DT_NEEDED entries of an arm64 executable", () => {
    const { executable } = arm64Root();
    expect(readElf(executable)).toEqual({
      machine: "aarch64",
      interpreter: "/lib/ld-linux-aarch64.so.1",
      needed: ["libm.so.6", "libc.so.6"],
    });
  });

  test("resolves them transitively in the arm64 multiarch directories, symlinks followed, nothing extra", () => {
    const { root, executable } = arm64Root();
    expect(runtimeFiles(executable, root)).toEqual([
      { path: "/lib/ld-linux-aarch64.so.1", source: join(root, "/lib/ld-linux-aarch64.so.1") },
      { path: "/lib/aarch64-linux-gnu/libm.so.6", source: join(root, "/lib/aarch64-linux-gnu/libm.so.6") },
      { path: "/lib/aarch64-linux-gnu/libc.so.6", source: join(root, "/lib/aarch64-linux-gnu/libc-2.36.so") },
    ]);
  });

  test("a missing library is an error naming it and where it looked", () => {
    const { root } = arm64Root();
    const executable = put(scratch, "needs-missing", syntheticElf({ machine: AARCH64, needed: ["libmissing.so.9"] }));
    expect(() => runtimeFiles(executable, root)).toThrow(
      /needs libmissing\.so\.9, found in none of .*aarch64-linux-gnu/,
    );
  });

  test("a file that is not ELF is rejected", () => {
    expect(() => readElf(put(scratch, "script.sh", "#!/bin/sh\n"))).toThrow(/not an ELF file/);
  });

  test("the running Bun needs a loader and libc for this machine's architecture", () => {
    const info = readElf(process.execPath);
    expect(info.machine).toBe(process.arch === "arm64" ? "aarch64" : "x86_64");
    const files = runtimeFiles(process.execPath).map((f) => f.path);
    expect(files[0]).toBe(info.interpreter as string);
    expect(files.some((p) => p.endsWith("/libc.so.6"))).toBe(true);
  });
});

describe("the image filesystem", () => {
  test("holds the executable, its libraries, passwd/group and /tmp, with fixed modes and no setuid bit", () => {
    const { root, executable } = arm64Root();
    const out = join(scratch, "rootfs");
    const written = assembleRootfs({
      out,
      executables: [{ source: executable, path: "/usr/local/bin/service" }],
      libraryRoot: root,
      users: true,
    });
    expect(written).toEqual([
      "/etc/group",
      "/etc/passwd",
      "/lib/aarch64-linux-gnu/libc.so.6",
      "/lib/aarch64-linux-gnu/libm.so.6",
      "/lib/ld-linux-aarch64.so.1",
      "/tmp/",
      "/usr/local/bin/service",
    ]);
    const mode = (path: string) => lstatSync(join(out, path)).mode & 0o7777;
    expect(mode("/usr/local/bin/service")).toBe(0o555);
    expect(mode("/lib/aarch64-linux-gnu/libc.so.6")).toBe(0o555);
    expect(lstatSync(join(out, "/lib/aarch64-linux-gnu/libc.so.6")).isSymbolicLink()).toBe(false);
    expect(mode("/etc/passwd")).toBe(0o444);
    expect(mode("/tmp")).toBe(0o1777);
    expect(readFileSync(join(out, "/etc/passwd"), "utf8")).toContain(
      "nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n",
    );
    expect(readFileSync(join(out, "/etc/group"), "utf8")).toContain("nonroot:x:65532:\n");
  });

  test("image paths must be absolute", () => {
    const { root, executable } = arm64Root();
    expect(() =>
      assembleRootfs({
        out: join(scratch, "bad"),
        executables: [{ source: executable, path: "bin/x" }],
        libraryRoot: root,
      }),
    ).toThrow(/must be absolute/);
  });
});

describe("build metadata", () => {
  test("the creation time is BUILD_TIME, else SOURCE_DATE_EPOCH, else the commit's time", async () => {
    expect(await creationTime(scratch, { BUILD_TIME: "2026-02-03T04:05:06Z" })).toBe("2026-02-03T04:05:06Z");
    expect(await creationTime(scratch, { SOURCE_DATE_EPOCH: "1761660634" })).toBe("2025-10-28T14:10:34.000Z");
    const repo = join(import.meta.dir, "../..");
    expect(await creationTime(repo, {})).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
  });

  test("the source URL comes from CI variables, else the origin remote as https", async () => {
    expect(
      await sourceUrl(scratch, { GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "acme/timekit" }),
    ).toBe("https://github.com/acme/timekit");
    const repo = mkdtempSync(join(scratch, "git-"));
    const git = (...args: string[]) => Bun.spawnSync(["git", "-C", repo, ...args]);
    git("init", "-q");
    git("remote", "add", "origin", "git@github.com:acme/timekit.git");
    expect(await sourceUrl(repo, {})).toBe("https://github.com/acme/timekit");
    git("remote", "set-url", "origin", "https://user:token@example.com/acme/timekit.git");
    expect(await sourceUrl(repo, {})).toBe("https://example.com/acme/timekit");
  });
});

describe("without a Docker engine", () => {
  test("building says so in one line, with the fix", async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${join(scratch, "no-daemon.sock")}`;
    try {
      const status = await dockerAvailable();
      expect(status.ok).toBe(false);
      const error = await buildImage({ service: "service1" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeployError);
      expect((error as DeployError).message).toMatch(/^no Docker engine answers at unix:\/\/.*no-daemon\.sock/);
      expect((error as DeployError).fix).toContain("start the Docker daemon");
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
