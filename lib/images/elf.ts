/**
 * Finds the shared libraries a dynamically linked ELF executable needs, the way the dynamic
 * loader would, so an image can ship exactly those files and nothing else. Reads only headers
 * (a compiled Bun binary is ~110 MB), and works inside a shell-less builder where `ldd` is absent.
 */
import { closeSync, existsSync, openSync, readSync, realpathSync } from "node:fs";
import { join } from "node:path";

const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_LOAD = 1;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;

/** Multiarch directories per ELF machine, searched before the generic ones. */
const MACHINES: Record<number, { name: string; triplets: string[] }> = {
  62: { name: "x86_64", triplets: ["x86_64-linux-gnu"] },
  183: { name: "aarch64", triplets: ["aarch64-linux-gnu"] },
};
const GENERIC_DIRS = ["/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib"];

export interface ElfInfo {
  machine: string;
  /** PT_INTERP: absolute path of the dynamic loader; null for a static executable. */
  interpreter: string | null;
  /** DT_NEEDED entries, in order. */
  needed: string[];
}

export interface RuntimeFile {
  /** Where the loader looks for it, i.e. where it must be in the image. */
  path: string;
  /** The real file behind `path` on this machine (symlinks resolved). */
  source: string;
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const read = readSync(fd, buffer, 0, length, offset);
  if (read !== length) throw new Error(`short read: wanted ${length} bytes at offset ${offset}, got ${read}`);
  return buffer;
}

interface Segment {
  type: number;
  offset: number;
  vaddr: bigint;
  filesz: number;
}

/** Reads PT_INTERP and DT_NEEDED of a 64-bit little-endian ELF file. */
export function readElf(file: string): ElfInfo {
  const fd = openSync(file, "r");
  try {
    const header = Buffer.alloc(64);
    const length = readSync(fd, header, 0, 64, 0);
    if (length < 4 || header.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
    if (length < 64) throw new Error(`${file} is a truncated ELF file`);
    if (header[4] !== 2 || header[5] !== 1) throw new Error(`${file} is not a 64-bit little-endian ELF file`);
    const machineId = header.readUInt16LE(0x12);
    const machine = MACHINES[machineId]?.name ?? `machine-0x${machineId.toString(16)}`;
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = readAt(fd, phoff, phentsize * phnum);
    const segments: Segment[] = [];
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      segments.push({
        type: table.readUInt32LE(at),
        offset: Number(table.readBigUInt64LE(at + 8)),
        vaddr: table.readBigUInt64LE(at + 16),
        filesz: Number(table.readBigUInt64LE(at + 32)),
      });
    }

    const interp = segments.find((s) => s.type === PT_INTERP);
    const interpreter = interp
      ? readAt(fd, interp.offset, interp.filesz).toString("latin1").replace(/\0.*$/s, "")
      : null;

    const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
    if (!dynamic) return { machine, interpreter, needed: [] };
    const entries = readAt(fd, dynamic.offset, dynamic.filesz);
    const neededOffsets: bigint[] = [];
    let strtab: bigint | undefined;
    let strsz = 0;
    for (let at = 0; at + 16 <= entries.length; at += 16) {
      const tag = entries.readBigInt64LE(at);
      const value = entries.readBigUInt64LE(at + 8);
      if (tag === DT_NULL) break;
      if (tag === DT_NEEDED) neededOffsets.push(value);
      else if (tag === DT_STRTAB) strtab = value;
      else if (tag === DT_STRSZ) strsz = Number(value);
    }
    if (neededOffsets.length === 0) return { machine, interpreter, needed: [] };
    if (strtab === undefined) throw new Error(`${file} has DT_NEEDED entries but no DT_STRTAB`);
    // DT_STRTAB is a virtual address; the loadable segment holding it maps it back to the file.
    const address = strtab;
    const load = segments.find((s) => s.type === PT_LOAD && address >= s.vaddr && address < s.vaddr + BigInt(s.filesz));
    if (!load) throw new Error(`${file}: DT_STRTAB 0x${address.toString(16)} is outside every loadable segment`);
    const strings = readAt(fd, load.offset + Number(address - load.vaddr), strsz);
    const needed = neededOffsets.map((offset) => {
      const start = Number(offset);
      const end = strings.indexOf(0, start);
      return strings.toString("latin1", start, end === -1 ? undefined : end);
    });
    return { machine, interpreter, needed };
  } finally {
    closeSync(fd);
  }
}

function searchDirs(machine: string, root: string): string[] {
  const triplets = Object.values(MACHINES).find((m) => m.name === machine)?.triplets ?? [];
  const dirs = triplets.flatMap((t) => [`/lib/${t}`, `/usr/lib/${t}`]).concat(GENERIC_DIRS);
  return dirs.filter((dir) => existsSync(join(root, dir)));
}

/**
 * The loader and every shared library `executable` needs, transitively, as found under `root`
 * (default `/`): what a `FROM scratch` image must hold for the executable to start.
 */
export function runtimeFiles(executable: string, root = "/"): RuntimeFile[] {
  const top = readElf(executable);
  const dirs = searchDirs(top.machine, root);
  const files = new Map<string, RuntimeFile>();
  const add = (path: string) => {
    if (!files.has(path)) files.set(path, { path, source: realpathSync(join(root, path)) });
  };
  if (top.interpreter) {
    if (!existsSync(join(root, top.interpreter))) {
      throw new Error(`${executable} needs the loader ${top.interpreter}, which is not under ${root}`);
    }
    add(top.interpreter);
  }
  const queue = [...top.needed];
  // libc names the loader in DT_NEEDED too; the copy at the PT_INTERP path is the one that counts.
  const seen = new Set<string>(top.interpreter ? [top.interpreter.split("/").pop() as string] : []);
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const dir = dirs.find((d) => existsSync(join(root, d, name)));
    if (!dir) throw new Error(`${executable} needs ${name}, found in none of ${dirs.join(", ")} under ${root}`);
    const path = `${dir}/${name}`;
    add(path);
    queue.push(...readElf(join(root, path)).needed);
  }
  return [...files.values()];
}
