/**
 * One line per step, with its duration, on stderr (stdout stays for results and JSON).
 * On a terminal the running step shows a spinner; otherwise plain lines. `quiet` prints only warnings.
 */
import type { Io } from "../io";

export class Progress {
  constructor(
    private readonly io: Io,
    private readonly quiet: boolean,
  ) {}

  private get spinning(): boolean {
    return !this.quiet && this.io.tty && !this.io.env.CI;
  }

  note(line: string): void {
    if (!this.quiet) this.io.stderr(`  ${line}\n`);
  }

  warn(line: string): void {
    this.io.stderr(`! ${line}\n`);
  }

  /** Runs `fn` as a named step: `✓ name (1.2s)` or `✗ name (0.3s)`. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    let timer: ReturnType<typeof setInterval> | undefined;
    if (this.spinning) {
      let i = 0;
      timer = setInterval(() => this.io.stderr(`\r${frames[i++ % frames.length]} ${name} (${seconds(started)})`), 100);
    }
    const finish = (mark: string) => {
      if (timer) clearInterval(timer);
      if (this.quiet) return;
      this.io.stderr(`${this.spinning ? "\r\x1b[2K" : ""}${mark} ${name} (${seconds(started)})\n`);
    };
    try {
      const result = await fn();
      finish("✓");
      return result;
    } catch (error) {
      finish("✗");
      throw error;
    }
  }
}

function seconds(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(1)}s`;
}
