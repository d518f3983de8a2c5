import { Writable } from "node:stream";
import type { BuildInfo } from "./build-info";
import { createLogger, type Logger } from "./logger";

/** A logger whose JSON lines land in an array, for tests that check what was logged. */
export function captureLogger(service = "test"): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      raw.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ service, version: "0.0.0-test", level: "info", destination: sink });
  return {
    logger,
    lines: () =>
      raw
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
  };
}

export function testBuildInfo(service: string): BuildInfo {
  return { service, version: "0.0.0-test", commit: "test", built: "test" };
}

/** Response bodies in tests are checked by assertions, not by the compiler. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions inspect arbitrary JSON
export type Json = any;

export async function json(response: Response): Promise<Json> {
  return response.json();
}
