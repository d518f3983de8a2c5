/**
 * One line per step, with its duration, on stderr (stdout stays for results and JSON).
 * On a TTY the running step shows a spinner; otherwise plain lines. `--quiet` prints nothing here.
 */
export class Progress {
  private readonly tty: boolean;
  constructor(private readonly quiet: boolean) {
    this.tty = Boolean(process.stderr.isTTY) && !Bun.env.CI;
  }

  note(line: string): void {
    if (!this.quiet) process.stderr.write(`  ${line}\n`);
  }

  warn(line: string): void {
    process.stderr.write(`! ${line}\n`);
  }

  /** Runs `fn` as a named step: `✓ name (1.2s)` or `✗ name (0.3s)`. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    let timer: ReturnType<typeof setInterval> | undefined;
    if (!this.quiet && this.tty) {
      let i = 0;
      timer = setInterval(() => {
        process.stderr.write(`\r${frames[i++ % frames.length]} ${name} (${seconds(started)})`);
      }, 100);
    }
    const finish = (mark: string) => {
      if (timer) clearInterval(timer);
      if (this.quiet) return;
      process.stderr.write(`${this.tty ? "\r\x1b[2K" : ""}${mark} ${name} (${seconds(started)})\n`);
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
