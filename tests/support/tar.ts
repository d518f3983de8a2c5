/**
 * Lists a tar stream's entries without keeping file contents, so a test can see every file of a
 * ~120 MB image (`docker export`) with its mode and owner. tar-stream reads ustar, PAX and GNU
 * long names: what Docker writes.
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { extract, type Header } from "tar-stream";

export interface TarEntry {
  path: string;
  /** `file`, `dir`, `symlink`, `hardlink`, or tar-stream's name for another type. */
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkTarget: string;
}

const TYPES: Partial<Record<NonNullable<Header["type"]>, string>> = {
  file: "file",
  directory: "dir",
  symlink: "symlink",
  link: "hardlink",
};

export async function listTar(stream: ReadableStream<Uint8Array>): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const reader = extract();
  Readable.fromWeb(stream as WebReadableStream<Uint8Array>).pipe(reader);
  for await (const entry of reader) {
    const { header } = entry;
    entries.push({
      path: `/${header.name.replace(/^\.?\//, "").replace(/\/$/, "")}`,
      type: TYPES[header.type ?? "file"] ?? String(header.type),
      mode: header.mode ?? 0,
      uid: header.uid ?? 0,
      gid: header.gid ?? 0,
      size: header.size ?? 0,
      linkTarget: header.linkname ?? "",
    });
    entry.resume();
  }
  return entries;
}
