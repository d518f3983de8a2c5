/**
 * The edge image: Caddy (the reverse proxy in front of service2 on Compose) on `scratch`, assembled
 * from the Caddy binary installed on this machine (Debian's `caddy` package) and edge/Caddyfile,
 * so it needs no registry. Same rules as the services' images: non-root, no shell, labels, a
 * health check that needs no shell (`caddy reload` of the unchanged config through the admin API
 * on loopback: Caddy answers "config is unchanged" and does nothing, and the command exits 0 only
 * when the running Caddy accepted it).
 *
 * The tag carries a hash of everything that goes in (binary, config, the image's own definition),
 * so a changed config is a new image that the deploy rolls out through its gate, and building
 * again with nothing changed reuses the image.
 */
import { chmodSync, copyFileSync, existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeployError, ExitCode } from "../errors";
import { run, runChecked } from "../exec";
import { REPO_ROOT } from "../paths";
import { buildkitClient, inspectImage, requireEngine } from "./docker";
import { sha256, sha256OfFile } from "./image-files";
import { assembleRootfs, NONROOT } from "./rootfs";

export const EDGE_CONFIG = join(REPO_ROOT, "edge", "Caddyfile");
/** Where Caddy is inside the image: the same path as in the `caddy:2` image on Docker Hub. */
export const EDGE_BINARY = "/usr/bin/caddy";
export const EDGE_CONFIG_PATH = "/etc/caddy/Caddyfile";
/** The admin API, on the container's own loopback. */
export const EDGE_ADMIN = "127.0.0.1:2019";

/** The health check, exec form (the image has no shell). */
export const EDGE_HEALTHCHECK = [
  EDGE_BINARY,
  "reload",
  "--config",
  EDGE_CONFIG_PATH,
  "--adapter",
  "caddyfile",
  "--address",
  EDGE_ADMIN,
];

/** The image's definition; `version` and `tag` are left empty when hashing the inputs. */
function dockerfile(caddyRelease: string, version: string, tag: string): string {
  const healthcheck = JSON.stringify(EDGE_HEALTHCHECK);
  return [
    "FROM scratch",
    "COPY rootfs/ /",
    `COPY Caddyfile ${EDGE_CONFIG_PATH}`,
    // Caddy writes its autosave and storage under these: the tmpfs on /tmp, the root is read-only.
    "ENV XDG_CONFIG_HOME=/tmp/caddy/config XDG_DATA_HOME=/tmp/caddy/data",
    `USER ${NONROOT.uid}:${NONROOT.gid}`,
    "EXPOSE 8080",
    "STOPSIGNAL SIGTERM",
    `LABEL org.opencontainers.image.title="timekit-edge" org.opencontainers.image.version="${version}" org.opencontainers.image.description="Caddy ${caddyRelease} in front of service2, on scratch; no shell" org.opencontainers.image.ref.name="${tag}" io.timekit.edge="true"`,
    `HEALTHCHECK --interval=2s --timeout=3s --retries=3 --start-period=10s CMD ${healthcheck}`,
    `ENTRYPOINT ["${EDGE_BINARY}"]`,
    `CMD ["run", "--config", "${EDGE_CONFIG_PATH}", "--adapter", "caddyfile"]`,
    "",
  ].join("\n");
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
  const inputs = sha256(`${await sha256OfFile(caddy)}\n${sha256(configText)}\n${dockerfile(caddyRelease, "", "")}`);
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
    writeFileSync(join(context, "Dockerfile"), dockerfile(caddyRelease, version, image));
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
