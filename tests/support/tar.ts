/**
 * Lists a tar stream's entries without keeping file contents, so a test can see every file of a
 * ~120 MB image (`docker export`) with its mode and owner. Handles ustar, PAX `path` records and
 * GNU long names: what Docker writes.
 */

export interface TarEntry {
  path: string;
  /** `file`, `dir`, `symlink`, `hardlink`, or the raw type flag. */
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkTarget: string;
}

const TYPES: Record<string, string> = { "0": "file", "\0": "file", "5": "dir", "2": "symlink", "1": "hardlink" };
const BLOCK = 512;

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).replace(/\0.*$/s, "");
const octal = (bytes: Uint8Array) => Number.parseInt(text(bytes).trim() || "0", 8);

function paxPath(body: Uint8Array): string | undefined {
  for (const record of new TextDecoder().decode(body).split("\n")) {
    const match = record.match(/^\d+ path=(.*)$/);
    if (match) return match[1];
  }
  return undefined;
}

export async function listTar(stream: ReadableStream<Uint8Array>): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  let pending = new Uint8Array(0);
  let skip = 0;
  let capture: { bytes: number; onDone: (body: Uint8Array) => void } | null = null;
  let nextPath: string | undefined;
  let finished = false;

  const consume = () => {
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, pending.length);
        pending = pending.subarray(n);
        skip -= n;
        if (skip > 0) return;
      }
      if (capture) {
        const padded = Math.ceil(capture.bytes / BLOCK) * BLOCK;
        if (pending.length < padded) return;
        capture.onDone(pending.slice(0, capture.bytes));
        pending = pending.subarray(padded);
        capture = null;
      }
      if (finished || pending.length < BLOCK) return;
      const header = pending.subarray(0, BLOCK);
      pending = pending.subarray(BLOCK);
      if (header.every((byte) => byte === 0)) {
        finished = true;
        return;
      }
      const flag = String.fromCharCode(header[156] ?? 0);
      const size = octal(header.subarray(124, 136));
      if (flag === "x" || flag === "L") {
        capture = {
          bytes: size,
          onDone: (body) => {
            nextPath = flag === "x" ? (paxPath(body) ?? nextPath) : text(body);
          },
        };
        continue;
      }
      const prefix = text(header.subarray(345, 500));
      const name = text(header.subarray(0, 100));
      const path = nextPath ?? (prefix ? `${prefix}/${name}` : name);
      nextPath = undefined;
      entries.push({
        path: `/${path.replace(/^\.?\//, "").replace(/\/$/, "")}`,
        type: TYPES[flag] ?? flag,
        mode: octal(header.subarray(100, 108)),
        uid: octal(header.subarray(108, 116)),
        gid: octal(header.subarray(116, 124)),
        size,
        linkTarget: text(header.subarray(157, 257)),
      });
      skip = Math.ceil(size / BLOCK) * BLOCK;
    }
  };

  for await (const chunk of stream) {
    const merged = new Uint8Array(pending.length + chunk.length);
    merged.set(pending);
    merged.set(chunk, pending.length);
    pending = merged;
    consume();
  }
  return entries;
}
