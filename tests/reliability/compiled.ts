import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;

/** Compiles both services from the working tree into a fresh directory, as `bun run build` does. */
export function compileServices(): { directory: string; remove: () => void } {
  const directory = mkdtempSync(join(tmpdir(), "timekit-compiled-"));
  const result = Bun.spawnSync([process.execPath, `${root}scripts/build.ts`, `--outdir=${directory}`], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (result.exitCode !== 0) {
    rmSync(directory, { recursive: true, force: true });
    throw new Error(`bun run build failed: ${result.stdout.toString()}${result.stderr.toString()}`);
  }
  return { directory, remove: () => rmSync(directory, { recursive: true, force: true }) };
}
