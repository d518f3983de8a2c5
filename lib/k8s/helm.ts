/**
 * Finds a helm binary: $HELM, helm 3.14+ on PATH, the cached pinned copy, or a fresh install of
 * the pinned one (install.ts). Idempotent and memoised per process.
 */
import { cachedPath, installPinned, memoisedFinder, PINNED } from "./install";
import { run, ToolMissingError } from "./tools";

export const HELM_VERSION = PINNED.helm.version;

/** helm 3.14+ (or 4.x), from `helm version --short`; older ones lack what the charts use. */
async function usable(bin: string): Promise<boolean> {
  const output = await run([bin, "version", "--short"], { timeoutMs: 15_000 }).catch(() => null);
  if (output?.exitCode !== 0) return false;
  const match = /^v(\d+)\.(\d+)\.\d+/.exec(output.stdout.trim());
  const [major, minor] = [Number(match?.[1]), Number(match?.[2])];
  return major >= 4 || (major === 3 && minor >= 14);
}

async function locate(toolsDir: string, allowInstall: boolean): Promise<string> {
  if (Bun.env.HELM) {
    if (await usable(Bun.env.HELM)) return Bun.env.HELM;
    throw new ToolMissingError("helm", `HELM=${Bun.env.HELM} is not a helm 3.14+ binary`);
  }
  for (const bin of [Bun.which("helm"), cachedPath("helm", toolsDir)]) {
    if (bin && (await usable(bin))) return bin;
  }
  if (!allowInstall) throw new ToolMissingError("helm", "not on PATH and not cached; install helm 3.14+ or set HELM");
  const installed = await installPinned("helm", toolsDir);
  if (!(await usable(installed))) throw new ToolMissingError("helm", `the installed ${installed} does not run`);
  return installed;
}

/** The path of a working helm binary; installs the pinned one if none is found. */
export const findHelm = memoisedFinder(locate);
