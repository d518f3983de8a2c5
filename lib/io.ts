/**
 * Where a command writes and what environment it reads. deploy.ts passes the process's own;
 * tests pass one that captures, so the whole CLI runs in-process.
 */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** stderr is a terminal: progress may animate. */
  tty: boolean;
}

export function processIo(): Io {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: Bun.env,
    tty: Boolean(process.stderr.isTTY),
  };
}
