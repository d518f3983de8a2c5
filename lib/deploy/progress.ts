/**
 * One line per step, with its duration, on stderr (stdout stays for results and JSON).
 * On a terminal the running step shows a spinner; otherwise plain lines. `quiet` prints only warnings.
 *
 * `--progress=json` prints one JSON object per line instead, for scripts and tests that act at a
 * given step: `{"event":"start","step":"service1.canary","name":"...","at":"..."}` when a step
 * starts (after the journal announced any change it makes), `{"event":"end","step":...,"ok":true,
 * "seconds":1.2}` when it ends, and `{"event":"note"|"warn","text":"..."}`.
 */
import { paint } from "../colour";
import type { Io } from "../io";

export const PROGRESS_MODES = ["text", "json"] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** A step's machine-readable key: `service1.canary`, or the name in lower case with dashes. */
export function stepKey(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

export class Progress {
  constructor(
    private readonly io: Io,
    private readonly quiet: boolean,
    readonly mode: ProgressMode = "text",
  ) {}

  private get spinning(): boolean {
    return this.mode === "text" && !this.quiet && this.io.tty && !this.io.env.CI;
  }

  private event(fields: Record<string, unknown>): void {
    this.io.stderr(`${JSON.stringify({ ...fields, at: new Date().toISOString() })}\n`);
  }

  /** Set while a spinner line is on screen: a note or warning first clears it, so none is hidden. */
  private spinnerShown = false;

  private line(text: string): void {
    this.io.stderr(`${this.spinnerShown ? "\r\x1b[2K" : ""}${text}\n`);
  }

  note(line: string): void {
    if (this.mode === "json") this.event({ event: "note", text: line });
    else if (!this.quiet) this.line(`  ${line}`);
  }

  warn(line: string): void {
    if (this.mode === "json") this.event({ event: "warn", text: line });
    else this.line(`${paint(this.io, "yellow", "!")} ${line}`);
  }

  /** Steps running now: steps may run at once, and a spinner is drawn only while one runs. */
  private running = 0;

  /**
   * Runs `fn` as a named step: `✓ name (1.2s)` or `✗ name (0.3s)`; `key` names it in JSON mode.
   * Steps may overlap (`Promise.all`): each prints its own line when it ends.
   */
  async step<T>(name: string, fn: () => Promise<T>, key: string = stepKey(name)): Promise<T> {
    this.running++;
    try {
      return await this.track(name, fn, key);
    } finally {
      this.running--;
    }
  }

  private async track<T>(name: string, fn: () => Promise<T>, key: string): Promise<T> {
    const started = performance.now();
    if (this.mode === "json") {
      this.event({ event: "start", step: key, name });
      try {
        const result = await fn();
        this.event({ event: "end", step: key, ok: true, seconds: elapsed(started) });
        return result;
      } catch (error) {
        this.event({ event: "end", step: key, ok: false, seconds: elapsed(started) });
        throw error;
      }
    }
    const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    let timer: ReturnType<typeof setInterval> | undefined;
    if (this.spinning) {
      let i = 0;
      timer = setInterval(() => {
        if (this.running > 1) return;
        this.io.stderr(`\r\x1b[2K${frames[i++ % frames.length]} ${name} (${seconds(started)})`);
        this.spinnerShown = true;
      }, 100);
    }
    const finish = (mark: string) => {
      if (timer) clearInterval(timer);
      if (this.quiet) return;
      this.line(`${mark} ${name} (${seconds(started)})`);
      this.spinnerShown = false;
    };
    try {
      const result = await fn();
      finish(paint(this.io, "green", "✓"));
      return result;
    } catch (error) {
      finish(paint(this.io, "red", "✗"));
      throw error;
    }
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) / 100) / 10;
}

function seconds(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(1)}s`;
}
