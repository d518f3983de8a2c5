import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

export interface LoggerOptions {
  service: string;
  version: string;
  level: string;
  /** Defaults to stdout; tests pass a collector. */
  destination?: DestinationStream;
}

/** Lines are held until 4 KiB collect or this long has passed, whichever comes first. */
const FLUSH_INTERVAL_MS = 200;

/**
 * One JSON object per line, with the service and version on every line. Writing each access log
 * line with its own syscall costs more than the request it describes, so stdout is buffered and
 * flushed on a short timer (and on shutdown, see serve.ts).
 */
export function createLogger({ service, version, level, destination }: LoggerOptions): Logger {
  const output = destination ?? bufferedStdout();
  return pino(
    {
      level,
      base: { service, version },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    output,
  );
}

function bufferedStdout(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => stream.flush(), FLUSH_INTERVAL_MS).unref();
  return stream;
}
