/**
 * One JSON object per line on stdout: `{"level","time","service","version",...fields,"msg"}`, the
 * shape pino wrote before. The access log writes a line per request, so lines are built as strings
 * (the service and version are serialised once) and collected in a buffer that is written when it
 * fills, on a short timer and when the process drains: pino with its async destination cost about
 * 3.5 µs a line here, this about 0.2 µs (README, "Performance").
 */

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LineLevel = Exclude<LogLevel, "silent">;

const SEVERITY: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

/** Where finished lines go: stdout in a service, an array in tests. */
export interface LineSink {
  write(text: string): void;
  /** Hands everything buffered to the operating system (or the collector); resolves when it is there. */
  flush(): Promise<void>;
}

/** Lines are held until this many characters collect or FLUSH_INTERVAL_MS has passed. */
export const FLUSH_CHARACTERS = 16_384;
export const FLUSH_INTERVAL_MS = 200;

/**
 * Buffers lines in a string and hands them to Bun's stdout writer (a FileSink) in large chunks.
 * The writer never blocks the event loop: when the reader of stdout is slow it keeps the bytes
 * and `flush` resolves once they are written, so awaiting it before exit loses no line.
 */
export class BufferedStdout implements LineSink {
  private pending = "";
  private readonly writer = Bun.stdout.writer();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly limit = FLUSH_CHARACTERS,
    intervalMs = FLUSH_INTERVAL_MS,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  write(text: string): void {
    this.pending += text;
    if (this.pending.length >= this.limit) this.handOver();
  }

  /**
   * Gives the writer what collected and lets it start writing; it finishes in the background. A
   * stdout that cannot be written to (its reader gone) has nowhere to report to: lines are dropped.
   */
  private handOver(): Promise<void> | undefined {
    if (this.pending !== "") {
      this.writer.write(this.pending);
      this.pending = "";
    }
    const written = this.writer.flush();
    return written instanceof Promise ? written.then(ignore, ignore) : undefined;
  }

  async flush(): Promise<void> {
    await this.handOver();
  }
}

function ignore(): void {}

/** `err` fields (and Errors anywhere in the fields) as pino's serializer showed them. */
function serialiseErrors(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  return { ...value, type: value.constructor.name, message: value.message, stack: value.stack };
}

let clockMs = Number.NaN;
let clockIso = "";
/** ISO-8601 time of now; the string is rebuilt at most once per millisecond. */
function isoNow(): string {
  const now = Date.now();
  if (now !== clockMs) {
    clockMs = now;
    clockIso = new Date(now).toISOString();
  }
  return clockIso;
}

export interface LoggerOptions {
  service: string;
  version: string;
  level: LogLevel;
  /** Defaults to buffered stdout; tests pass a collector. */
  sink?: LineSink;
}

type Fields = Record<string, unknown>;

export interface LogMethod {
  (fields: Fields, message?: string): void;
  (message: string): void;
}

export class Logger {
  readonly level: LogLevel;
  readonly fatal: LogMethod;
  readonly error: LogMethod;
  readonly warn: LogMethod;
  readonly info: LogMethod;
  readonly debug: LogMethod;
  readonly trace: LogMethod;
  private readonly threshold: number;
  /** `,"service":…,"version":…`, serialised once. */
  private readonly bindings: string;
  private readonly sink: LineSink;
  private readonly heads: Record<LineLevel, string>;

  constructor({ service, version, level, sink }: LoggerOptions) {
    this.level = level;
    this.threshold = SEVERITY[level];
    this.sink = sink ?? new BufferedStdout();
    this.bindings = `,"service":${JSON.stringify(service)},"version":${JSON.stringify(version)}`;
    this.heads = {
      fatal: '{"level":"fatal","time":"',
      error: '{"level":"error","time":"',
      warn: '{"level":"warn","time":"',
      info: '{"level":"info","time":"',
      debug: '{"level":"debug","time":"',
      trace: '{"level":"trace","time":"',
    };
    this.fatal = this.method("fatal");
    this.error = this.method("error");
    this.warn = this.method("warn");
    this.info = this.method("info");
    this.debug = this.method("debug");
    this.trace = this.method("trace");
  }

  isLevelEnabled(level: LineLevel): boolean {
    return SEVERITY[level] >= this.threshold;
  }

  /**
   * Writes a line from fields already serialised as JSON members (`"a":1,"b":"x"`, no braces):
   * the access log's way to skip building and walking an object per request.
   */
  writeSerialised(level: LineLevel, members: string, message: string): void {
    if (SEVERITY[level] < this.threshold) return;
    if (message !== this.lastMessage) {
      this.lastMessage = message;
      this.lastTail = `,"msg":${JSON.stringify(message)}}\n`;
    }
    this.sink.write(`${this.heads[level]}${isoNow()}"${this.bindings},${members}${this.lastTail}`);
  }

  /** The closing `"msg"` member of the last message written by writeSerialised (the access log's, nearly always). */
  private lastMessage?: string;
  private lastTail = "";

  flush(): Promise<void> {
    return this.sink.flush();
  }

  private method(level: LineLevel): LogMethod {
    return (fieldsOrMessage: Fields | string, message?: string) => {
      if (SEVERITY[level] < this.threshold) return;
      const fields = typeof fieldsOrMessage === "string" ? undefined : fieldsOrMessage;
      const text = typeof fieldsOrMessage === "string" ? fieldsOrMessage : message;
      let members = "";
      if (fields) {
        try {
          members = JSON.stringify(fields, serialiseErrors).slice(1, -1);
        } catch (error) {
          members = `"logError":${JSON.stringify(`fields could not be serialised: ${(error as Error).message}`)}`;
        }
      }
      const msg = text === undefined ? "" : `,"msg":${JSON.stringify(text)}`;
      this.sink.write(`${this.heads[level]}${isoNow()}"${this.bindings}${members ? `,${members}` : ""}${msg}}\n`);
    };
  }
}

export function createLogger(options: LoggerOptions): Logger {
  return new Logger(options);
}
