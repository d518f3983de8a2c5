import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

export interface LoggerOptions {
  service: string;
  version: string;
  level: string;
  /** Defaults to stdout; tests pass a collector. */
  destination?: DestinationStream;
}

/** One JSON object per line, with the service and version on every line. */
export function createLogger({ service, version, level, destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service, version },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
