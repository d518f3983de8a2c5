/** Sends bytes over a plain TCP socket and returns what came back (for requests fetch() refuses to send). */
export function rawRequest(port: number, payload: string | Uint8Array, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    let received = "";
    const decoder = new TextDecoder();
    const done = () => resolve(received);
    const timer = setTimeout(done, timeoutMs);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (socket) => {
          socket.write(payload);
        },
        data: (_socket, chunk) => {
          received += decoder.decode(chunk, { stream: true });
        },
        close: () => {
          clearTimeout(timer);
          done();
        },
        error: () => {
          clearTimeout(timer);
          done();
        },
      },
    }).catch(done);
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function parseResponse(text: string): RawResponse | undefined {
  const [head, ...rest] = text.split("\r\n\r\n");
  const [statusLine, ...headerLines] = (head ?? "").split("\r\n");
  const status = Number(statusLine?.split(" ")[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const at = line.indexOf(":");
      return [line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim()];
    }),
  );
  return { status, headers, body: rest.join("\r\n\r\n") };
}

const encoder = new TextEncoder();
export const bytes = (...parts: (string | number[])[]): Uint8Array =>
  new Uint8Array(parts.flatMap((part) => (typeof part === "string" ? [...encoder.encode(part)] : part)));
