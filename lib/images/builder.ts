/**
 * The builder image for machines that cannot pull `oven/bun`: `FROM scratch` + the installed Bun
 * + the shared libraries it needs + an empty /tmp. It has no shell, which is why the Dockerfile
 * uses exec-form RUN only. Assembled from files on this machine, so it needs no registry.
 */
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeployError, ExitCode } from "../errors";
import { runChecked } from "../exec";
import { REPO_ROOT } from "../paths";
import { buildkitClient, inspectImage, requireEngine } from "./docker";
import { assembleRootfs } from "./rootfs";

export const BUILDER_REPOSITORY = "timekit/bun-builder";

/** The Bun version the project pins (package.json `packageManager`). */
export async function pinnedBunVersion(root = REPO_ROOT): Promise<string> {
  const manifest = (await Bun.file(join(root, "package.json")).json()) as { packageManager?: string };
  const version = manifest.packageManager?.match(/^bun@(.+)$/)?.[1];
  if (!version) throw new Error(`package.json has no "packageManager": "bun@<version>"`);
  return version;
}

export interface BuilderImageOptions {
  /** Image tag; default `timekit/bun-builder:<pinned Bun version>`. */
  tag?: string;
  /** The Bun executable to package; default the one running this code. */
  bun?: string;
  /** Rebuild even when the tag exists. */
  force?: boolean;
  onProgress?: (line: string) => void;
}

export interface BuilderImage {
  tag: string;
  id: string;
  /** False when the image already existed and was reused. */
  built: boolean;
}

async function bunVersionOf(bun: string): Promise<string> {
  return (await runChecked([bun, "--version"], { timeoutMs: 30_000 })).stdout.trim();
}

/** Idempotent: returns the existing image unless `force`. */
export async function ensureBuilderImage(options: BuilderImageOptions = {}): Promise<BuilderImage> {
  await requireEngine();
  const pinned = await pinnedBunVersion();
  const tag = options.tag ?? `${BUILDER_REPOSITORY}:${pinned}`;
  const existing = await inspectImage(tag);
  if (existing && !options.force) return { tag, id: existing.id, built: false };

  const bun = realpathSync(options.bun ?? process.execPath);
  const version = await bunVersionOf(bun);
  if (version !== pinned) {
    throw new DeployError(
      `${bun} is Bun ${version}, but the project pins Bun ${pinned}: the builder image would compile with the wrong Bun`,
      ExitCode.failed,
      `install the pinned Bun (\`npm install -g bun@${pinned}\`) or pass the right binary`,
    );
  }

  const context = mkdtempSync(join(tmpdir(), "timekit-builder-"));
  try {
    options.onProgress?.(`assembling ${tag} from ${bun}`);
    assembleRootfs({
      out: join(context, "rootfs"),
      executables: [{ source: bun, path: "/usr/local/bin/bun" }],
      directories: [{ path: "/root", mode: 0o700 }],
    });
    writeFileSync(
      join(context, "Dockerfile"),
      [
        "FROM scratch",
        "COPY rootfs/ /",
        "ENV PATH=/usr/local/bin HOME=/root",
        `LABEL org.opencontainers.image.title="${BUILDER_REPOSITORY}" org.opencontainers.image.version="${version}" org.opencontainers.image.description="Bun ${version} on scratch, assembled from a local install; no shell"`,
        'ENTRYPOINT ["/usr/local/bin/bun"]',
        "",
      ].join("\n"),
    );
    const client = await buildkitClient();
    const iidfile = join(context, "iid");
    await runChecked([...client.argv, "--progress=plain", "--iidfile", iidfile, "--tag", tag, context], {
      what: `building the builder image ${tag}`,
      env: { ...Bun.env, ...client.env },
      timeoutMs: 600_000,
      ...(options.onProgress ? { onLine: options.onProgress } : {}),
    });
    const id = (await Bun.file(iidfile).text()).trim();
    return { tag, id, built: true };
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}
