/** One line per step with its duration, on stderr so stdout stays free for data. */
export async function step<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  process.stderr.write(`… ${name}\n`);
  try {
    const result = await work();
    process.stderr.write(`✓ ${name} (${((performance.now() - started) / 1000).toFixed(1)}s)\n`);
    return result;
  } catch (error) {
    process.stderr.write(`✗ ${name} (${((performance.now() - started) / 1000).toFixed(1)}s): ${message(error)}\n`);
    throw error;
  }
}

export function note(text: string): void {
  process.stderr.write(`  ${text}\n`);
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
