/**
 * HTTP helpers for tests against containers on loopback ports: a request whose body is sent in
 * two parts (so it is provably in flight while something happens), and a small load loop.
 */
import { connect } from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parse(raw: string): RawResponse {
  const [head = "", ...rest] = raw.split("\r\n\r\n");
  const [statusLine = "", ...headerLines] = head.split("\r\n");
  const status = Number(statusLine.split(" ")[1]);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const at = line.indexOf(":");
    if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  let body = rest.join("\r\n\r\n");
  if (headers["transfer-encoding"] === "chunked") {
    let decoded = "";
    for (let at = 0; ; ) {
      const end = body.indexOf("\r\n", at);
      const size = Number.parseInt(body.slice(at, end), 16);
      if (!size) break;
      decoded += body.slice(end + 2, end + 2 + size);
      at = end + 2 + size + 2;
    }
    body = decoded;
  }
  return { status, headers, body };
}

export interface SplitRequest {
  /** Resolves once the headers and the first part of the body are written. */
  started: Promise<void>;
  /** Sends the rest of the body. */
  finish(): void;
  /** The response, once the server has answered and closed. */
  response: Promise<RawResponse>;
}

/** POST `body` to 127.0.0.1:port, holding back everything after the first `firstBytes` bytes until finish(). */
export function splitRequest(
  port: number,
  path: string,
  body: string,
  firstBytes: number,
  headers: Record<string, string> = {},
): SplitRequest {
  const socket = connect({ host: "127.0.0.1", port });
  const chunks: Buffer[] = [];
  const head = [
    `POST ${path} HTTP/1.1`,
    `host: 127.0.0.1:${port}`,
    "content-type: application/json",
    `content-length: ${Buffer.byteLength(body)}`,
    "connection: close",
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    "",
    "",
  ].join("\r\n");
  const started = new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("connect", () => socket.write(head + body.slice(0, firstBytes), () => resolve()));
  });
  const response = new Promise<RawResponse>((resolve, reject) => {
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("error", reject);
    socket.once("close", () => {
      const raw = Buffer.concat(chunks).toString();
      if (!raw) reject(new Error("connection closed with no response"));
      else resolve(parse(raw));
    });
  });
  response.catch(() => undefined);
  return { started, finish: () => socket.write(body.slice(firstBytes)), response };
}

export interface LoadResult {
  /** HTTP status of each answered request. */
  statuses: number[];
  /** Requests that got no HTTP answer (refused, reset, timed out), by message. */
  errors: string[];
}

/** Sends GETs to `url` from `workers` loops until stop() is called; a 10 s cap per request guards against hangs. */
export function loadLoop(url: string, workers: number, headers: Record<string, string> = {}) {
  const result: LoadResult = { statuses: [], errors: [] };
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      try {
        const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        result.statuses.push(response.status);
      } catch (error) {
        result.errors.push((error as Error).message);
        await Bun.sleep(20);
      }
    }
  });
  return {
    result,
    async stop(): Promise<LoadResult> {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}
