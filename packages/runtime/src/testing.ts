import type { BuildInfo } from "./build-info";
import { createLogger, type LineSink, type Logger } from "./logger";

/** A sink that keeps every line, for tests that check what was logged. */
export class MemorySink implements LineSink {
  private readonly written: string[] = [];

  write(text: string): void {
    this.written.push(text);
  }

  async flush(): Promise<void> {}

  lines(): Record<string, unknown>[] {
    return this.written
      .join("")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  }
}

/** A logger whose JSON lines land in an array, for tests that check what was logged. */
export function captureLogger(service = "test"): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const sink = new MemorySink();
  const logger = createLogger({ service, version: "0.0.0-test", level: "info", sink });
  return { logger, lines: () => sink.lines() };
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
