/**
 * The edge image: Caddy (the reverse proxy in front of service2 on Compose) on `scratch`. Its one
 * definition is edge/Dockerfile, which `docker compose up --build` builds with Caddy from the
 * official image. Here it is built with no registry: the same final stage, with Caddy copied from
 * this machine (Debian's `caddy` package, with the libraries it links) instead of from that image.
 *
 * The tag carries a hash of everything that goes in (binary, config, the image's definition), so
 * a changed config is a new image that the deploy rolls out through its gate, and building again
 * with nothing changed reuses the image.
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeployError, ExitCode } from "../errors";
import { run, runChecked } from "../exec";
import { REPO_ROOT } from "../paths";
import { buildkitClient, inspectImage, requireEngine } from "./docker";
import { sha256, sha256OfFile } from "./image-files";
import { assembleRootfs } from "./rootfs";

export const EDGE_DOCKERFILE = join(REPO_ROOT, "edge", "Dockerfile");
export const EDGE_CONFIG = join(REPO_ROOT, "edge", "Caddyfile");
/** Where Caddy is inside the image: the same path as in the `caddy:2` image on Docker Hub. */
export const EDGE_BINARY = "/usr/bin/caddy";
/** The line of edge/Dockerfile that takes Caddy from the official image. */
const FROM_IMAGE = `COPY --from=caddy ${EDGE_BINARY} ${EDGE_BINARY}`;

/**
 * edge/Dockerfile's final stage with Caddy (and its libraries) from `rootfs/` in the build
 * context instead of from the official image, and the version labels of this build; `version` and
 * `tag` are left empty when hashing the inputs.
 */
export function localDockerfile(definition: string, caddyRelease: string, version: string, tag: string): string {
  const finalStage = definition.slice(definition.lastIndexOf("\nFROM scratch\n") + 1);
  if (!finalStage.startsWith("FROM scratch\n") || !finalStage.includes(`\n${FROM_IMAGE}\n`)) {
    throw new Error(`edge/Dockerfile must end in a \`FROM scratch\` stage with the line \`${FROM_IMAGE}\``);
  }
  return `${finalStage.replace(FROM_IMAGE, "COPY rootfs/ /")}LABEL org.opencontainers.image.version="${version}" org.opencontainers.image.ref.name="${tag}" io.timekit.edge.caddy="${caddyRelease}"\n`;
}

export interface EdgeImageOptions {
  /** The local repository the image is tagged under (`<repository>/edge:<version>`). */
  repository: string;
  /** The Caddy executable; default `caddy` on PATH. */
  caddy?: string;
  /** The Caddyfile; default edge/Caddyfile. */
  config?: string;
  onProgress?: (line: string) => void;
}

export interface EdgeImage {
  /** `<repository>/edge:<caddy version>-<inputs hash>`. */
  image: string;
  /** The image id. */
  digest: string;
  /** The version label: Caddy's version and the inputs hash. */
  version: string;
  built: boolean;
}

/** The installed Caddy's version (`2.6.2`), or a DeployError saying how to install it. */
async function caddyVersion(caddy: string): Promise<string> {
  const out = await run([caddy, "version"], { timeoutMs: 30_000 });
  const version = /^v?(\d+\.\d+\.\d+)/.exec(out.stdout.trim())?.[1];
  if (out.exitCode !== 0 || !version) {
    throw new DeployError(
      `${caddy} is not a working Caddy (\`caddy version\` said: ${(out.stdout + out.stderr).trim().slice(0, 200) || `exit ${out.exitCode}`})`,
      ExitCode.failed,
      "install Caddy 2 (`apt-get install caddy`), or deploy without the edge (--publish_service2_directly)",
    );
  }
  return version;
}

function findCaddy(explicit: string | undefined): string {
  const found = explicit ?? Bun.which("caddy");
  if (!found) {
    throw new DeployError(
      "the edge image is assembled from the Caddy installed on this machine, and there is no `caddy` on PATH",
      ExitCode.failed,
      "install Caddy 2 (`apt-get install caddy`), or deploy without the edge (--publish_service2_directly)",
    );
  }
  return realpathSync(found);
}

/** Builds the edge image unless one with the same inputs exists; returns it pinned by id. */
export async function ensureEdgeImage(options: EdgeImageOptions): Promise<EdgeImage> {
  await requireEngine();
  const caddy = findCaddy(options.caddy);
  const config = options.config ?? EDGE_CONFIG;
  if (!existsSync(config)) {
    throw new DeployError(
      `the edge's Caddyfile ${config} does not exist`,
      ExitCode.failed,
      "point TIMEKIT_EDGE_CONFIG at a Caddyfile, or unset it to use edge/Caddyfile",
    );
  }
  const caddyRelease = await caddyVersion(caddy);
  const configText = await Bun.file(config).text();
  const definition = readFileSync(EDGE_DOCKERFILE, "utf8");
  const inputs = sha256(
    `${await sha256OfFile(caddy)}\n${sha256(configText)}\n${localDockerfile(definition, caddyRelease, "", "")}`,
  );
  const version = `${caddyRelease}-${inputs.replace(/^sha256:/, "").slice(0, 12)}`;
  const image = `${options.repository}/edge:${version}`;
  const existing = await inspectImage(image);
  if (existing) return { image, digest: existing.id, version, built: false };

  const context = mkdtempSync(join(tmpdir(), "timekit-edge-"));
  try {
    options.onProgress?.(`assembling ${image} from ${caddy} and ${config}`);
    assembleRootfs({
      out: join(context, "rootfs"),
      executables: [{ source: caddy, path: EDGE_BINARY }],
      users: true,
    });
    copyFileSync(config, join(context, "Caddyfile"));
    chmodSync(join(context, "Caddyfile"), 0o444);
    writeFileSync(join(context, "Dockerfile"), localDockerfile(definition, caddyRelease, version, image));
    const client = await buildkitClient();
    const iidfile = join(context, "iid");
    await runChecked([...client.argv, "--progress=plain", "--iidfile", iidfile, "--tag", image, context], {
      what: `building the edge image ${image}`,
      env: { ...Bun.env, ...client.env },
      timeoutMs: 600_000,
    });
    const digest = (await Bun.file(iidfile).text()).trim();
    return { image, digest, version, built: true };
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}
