/**
 * Finds kubectl (which renders kustomizations offline): $KUBECTL, kubectl 1.30+ on PATH, the cached
 * pinned copy, or a fresh install of the pinned one (install.ts). Memoised per process.
 */
import { cachedPath, installPinned, memoisedFinder } from "./install";
import { run, ToolMissingError } from "./tools";

async function usable(bin: string): Promise<boolean> {
  const output = await run([bin, "version", "--client", "--output=json"], { timeoutMs: 15_000 }).catch(() => null);
  if (output?.exitCode !== 0) return false;
  try {
    const { major, minor } = JSON.parse(output.stdout).clientVersion as { major: string; minor: string };
    return Number(major) > 1 || (Number(major) === 1 && Number.parseInt(minor, 10) >= 30);
  } catch {
    return false;
  }
}

async function locate(toolsDir: string, allowInstall: boolean): Promise<string> {
  if (Bun.env.KUBECTL) {
    if (await usable(Bun.env.KUBECTL)) return Bun.env.KUBECTL;
    throw new ToolMissingError("kubectl", `KUBECTL=${Bun.env.KUBECTL} is not a kubectl 1.30+ binary`);
  }
  for (const bin of [Bun.which("kubectl"), cachedPath("kubectl", toolsDir)]) {
    if (bin && (await usable(bin))) return bin;
  }
  if (!allowInstall) {
    throw new ToolMissingError("kubectl", "not on PATH and not cached; install kubectl 1.30+ or set KUBECTL");
  }
  const installed = await installPinned("kubectl", toolsDir);
  if (!(await usable(installed))) throw new ToolMissingError("kubectl", `the installed ${installed} does not run`);
  return installed;
}

/** The path of a working kubectl; installs the pinned one if none is found. */
export const findKubectl = memoisedFinder(locate);
