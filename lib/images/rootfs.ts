/**
 * Lays out the whole filesystem of a `FROM scratch` image in a directory: executables, exactly
 * the shared libraries they need (found from their ELF headers, so amd64 and arm64 both work),
 * an /etc/passwd for a non-root user, and an empty /tmp. Nothing else: no shell, no setuid bit.
 */
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { runtimeFiles } from "./elf";

export const NONROOT = { name: "nonroot", uid: 65532, gid: 65532 } as const;

export interface RootfsExecutable {
  /** The file on this machine. */
  source: string;
  /** Absolute path inside the image. */
  path: string;
}

export interface RootfsOptions {
  /** Directory to create; emptied first. */
  out: string;
  executables: RootfsExecutable[];
  /** Where the libraries are taken from (default `/`): the builder's own root. */
  libraryRoot?: string;
  /** Also write /etc/passwd and /etc/group with root and `nonroot` (UID/GID 65532). */
  users?: boolean;
  /** Extra empty directories, e.g. a home for the builder's root. */
  directories?: { path: string; mode: number }[];
}

function place(out: string, path: string, mode: number, write: (target: string) => void): void {
  if (!path.startsWith("/")) throw new Error(`image paths must be absolute, got ${JSON.stringify(path)}`);
  const target = join(out, path);
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  write(target);
  // Explicit modes: the source's bits (setuid included) never leak into the image.
  chmodSync(target, mode);
}

/** Returns the image paths written, sorted. */
export function assembleRootfs(options: RootfsOptions): string[] {
  const { out } = options;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true, mode: 0o755 });
  const written = new Set<string>();

  for (const executable of options.executables) {
    place(out, executable.path, 0o555, (target) => copyFileSync(executable.source, target));
    written.add(executable.path);
    for (const library of runtimeFiles(executable.source, options.libraryRoot)) {
      if (written.has(library.path)) continue;
      place(out, library.path, 0o555, (target) => copyFileSync(library.source, target));
      written.add(library.path);
    }
  }

  if (options.users) {
    const { name, uid, gid } = NONROOT;
    const passwd = `root:x:0:0:root:/root:/sbin/nologin\n${name}:x:${uid}:${gid}:${name}:/nonexistent:/sbin/nologin\n`;
    const group = `root:x:0:\n${name}:x:${gid}:\n`;
    place(out, "/etc/passwd", 0o444, (target) => writeFileSync(target, passwd));
    place(out, "/etc/group", 0o444, (target) => writeFileSync(target, group));
    written.add("/etc/passwd").add("/etc/group");
  }

  // World-writable and sticky, like every /tmp; read-only deployments mount a tmpfs over it.
  for (const dir of [{ path: "/tmp", mode: 0o1777 }, ...(options.directories ?? [])]) {
    mkdirSync(join(out, dir.path), { recursive: true });
    chmodSync(join(out, dir.path), dir.mode);
    written.add(`${dir.path}/`);
  }
  return [...written].sort();
}
