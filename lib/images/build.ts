/**
 * Builds a service image from the working tree with the repository's one Dockerfile, on any
 * machine with a Docker engine, registry access or not:
 *
 *   const image = await buildImage({ service: "service1", tags: ["timekit/service1:dev"] });
 *
 * The builder is, in order: `builderImage`, env BUN_IMAGE, the official image if the engine has
 * it or can pull it, else the shell-less builder assembled from the local Bun.
 * Extra CA certificates (NODE_EXTRA_CA_CERTS, e.g. a TLS-intercepting proxy) are handed to
 * `bun install` as a BuildKit secret, never stored in a layer.
 *
 * Reproducible: every time in the image is the commit's (SOURCE_DATE_EPOCH), so building one
 * commit again, with or without a cache, gives the same image id (lib/images/reproducible.ts).
 * The config also carries `io.timekit.sbom.digest`, the sha256 of the CycloneDX SBOM `publish`
 * writes for this image (lib/images/sbom.ts).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeployError, ExitCode, lastLines } from "../errors";
import { run } from "../exec";
import { DOCKERFILE, REPO_ROOT } from "../paths";
import { isServiceName, SERVICES, type ServiceName } from "../services";
import { ensureBuilderImage } from "./builder";
import { type BuildKitClient, buildkitClient, type ImageInfo, inspectImage, pullImage, requireEngine } from "./docker";
import { sha256 } from "./image-files";
import { sourceMetadata } from "./metadata";
import { LOCAL_REPOSITORY } from "./registry";
import { makeReproducible } from "./reproducible";
import { SBOM_LABEL, sbomBytes } from "./sbom";

export interface BuildImageOptions {
  service: ServiceName;
  /** Baked into GET /version and the version label; default the service's package.json version. */
  version?: string;
  /** Default env BUILD_COMMIT, else the git commit (`-dirty` if the tree has changes). */
  commit?: string;
  /** ISO time of every timestamp in the image; default env BUILD_TIME or SOURCE_DATE_EPOCH, else the commit's time. */
  created?: string;
  /** Default `timekit/<service>:<version>`, or `:dev` when no version is given. */
  tags?: string[];
  /** Image for the builder stage; see the module comment for the default. */
  builderImage?: string;
  /** The repository URL for the source label; default from CI variables or the origin remote. */
  sourceUrl?: string;
  /** Repository root to build from; default this checkout. */
  context?: string;
  /**
   * BuildKit cache import/export (`type=gha,scope=...`, `type=registry,ref=...`); default env
   * TIMEKIT_BUILD_CACHE_FROM / TIMEKIT_BUILD_CACHE_TO, where `{service}` stands for the service
   * (`type=gha,scope=image-{service}`), so one setting gives each service its own cache scope.
   * Only buildx exports a cache: with a plain BuildKit client they are skipped with a progress
   * note (the local cache still works).
   */
  cacheFrom?: string;
  cacheTo?: string;
  /** Build every step again, cache mounts included (the reproducibility check: same commit, same id). */
  noCache?: boolean;
  /** Each line of build output as it arrives (BuildKit plain progress). */
  onProgress?: (line: string) => void;
}

export type BuilderSource = "option" | "env" | "official" | "local";

export interface BuiltImage {
  service: ServiceName;
  /** Content-addressed image id (`sha256:...`): the local digest, stable for identical builds. */
  id: string;
  tags: string[];
  /** Registry digests; empty until the image is pushed or pulled. */
  repoDigests: string[];
  version: string;
  commit: string;
  created: string;
  builderImage: string;
  builderSource: BuilderSource;
  /** Uncompressed size in bytes, as `docker image ls` reports it. */
  size: number;
  labels: Record<string, string>;
}

/** The official builder the Dockerfile names by default (its `ARG BUN_IMAGE=`). */
export async function officialBuilderImage(root = REPO_ROOT): Promise<string> {
  const file = root === REPO_ROOT ? DOCKERFILE : join(root, "Dockerfile");
  const match = (await Bun.file(file).text()).match(/^ARG BUN_IMAGE=(\S+)/m);
  if (!match?.[1]) throw new Error(`${file} has no "ARG BUN_IMAGE=<image>" line`);
  return match[1];
}

async function chooseBuilder(
  options: BuildImageOptions,
  root: string,
  onProgress?: (line: string) => void,
): Promise<{ image: string; source: BuilderSource }> {
  if (options.builderImage) return { image: options.builderImage, source: "option" };
  if (Bun.env.BUN_IMAGE) return { image: Bun.env.BUN_IMAGE, source: "env" };
  const official = await officialBuilderImage(root);
  if (await inspectImage(official)) return { image: official, source: "official" };
  // Air-gapped engines fail fast here (no DNS) or hit the guard; either way we fall back.
  const pulled = await pullImage(official, { timeoutMs: 120_000 });
  if (pulled.exitCode === 0) return { image: official, source: "official" };
  onProgress?.(`cannot pull ${official} (${pulled.timedOut ? "timed out" : lastLines(pulled, 1).join("")})`);
  onProgress?.(`using the builder assembled from the local Bun instead of ${official}`);
  const local = await ensureBuilderImage(onProgress ? { onProgress } : {});
  return { image: local.tag, source: "local" };
}

/** A cache setting with `{service}` replaced by the service being built. */
export function cacheSetting(value: string | undefined, service: ServiceName): string | undefined {
  return value?.replaceAll("{service}", service);
}

/** `--cache-from/--cache-to` for buildx; other clients cannot export a cache, which is said, not fatal. */
function cacheFlags(options: BuildImageOptions, client: BuildKitClient, onProgress?: (line: string) => void): string[] {
  const from = cacheSetting(options.cacheFrom ?? Bun.env.TIMEKIT_BUILD_CACHE_FROM, options.service);
  const to = cacheSetting(options.cacheTo ?? Bun.env.TIMEKIT_BUILD_CACHE_TO, options.service);
  if (!from && !to) return [];
  if (!client.buildx) {
    onProgress?.(
      `cannot import or export a BuildKit cache with ${client.description} (it needs buildx); building without ${[from && "cache-from", to && "cache-to"].filter(Boolean).join(" and ")}`,
    );
    return [];
  }
  return [...(from ? ["--cache-from", from] : []), ...(to ? ["--cache-to", to] : [])];
}

/** The CA bundle handed to `bun install`: NODE_EXTRA_CA_CERTS (e.g. a TLS-intercepting proxy's). */
function caFile(): string | null {
  const file = Bun.env.NODE_EXTRA_CA_CERTS || null;
  if (file && !existsSync(file)) {
    throw new DeployError(
      `the extra CA bundle ${file} does not exist`,
      ExitCode.failed,
      "point NODE_EXTRA_CA_CERTS at a PEM file, or unset it",
    );
  }
  return file;
}

/** What Bun prints when `bun install --frozen-lockfile` finds bun.lock out of date (and nothing else does). */
const FROZEN_LOCKFILE = /error: lockfile had changes, but lockfile is frozen/;

/** Why a build failed, in words, from its output. */
export function explain(output: string, builderImage: string): string | undefined {
  if (FROZEN_LOCKFILE.test(output)) {
    return "bun.lock does not match the package.json files: run `bun install` and commit bun.lock (and list any new workspace's package.json in the Dockerfile)";
  }
  if (/failed to (?:resolve|fetch|authorize|load metadata)|pull access denied|failed to do request/i.test(output)) {
    return `the builder image ${builderImage} is not in the engine and cannot be pulled: run \`bun scripts/builder-image.ts\` and pass builderImage "timekit/bun-builder:<bun version>" (or set BUN_IMAGE), or load ${builderImage} first`;
  }
  if (/CERT|certificate|ConnectionRefused|FailedToOpenSocket|ENOTFOUND|ECONNRESET|registry\.npmjs/i.test(output)) {
    return "`bun install` in the builder could not fetch packages: it needs the npm registry (behind a TLS-intercepting proxy, set NODE_EXTRA_CA_CERTS to its CA bundle) or a BuildKit cache already warmed by an earlier build of this bun.lock";
  }
  return undefined;
}

export async function buildImage(options: BuildImageOptions): Promise<BuiltImage> {
  const { service } = options;
  if (!isServiceName(service)) {
    throw new Error(`buildImage: service must be one of ${SERVICES.join(", ")}; got ${JSON.stringify(service)}`);
  }
  await requireEngine();
  const root = options.context ?? REPO_ROOT;
  const log = options.onProgress;
  const client = await buildkitClient();
  const builder = await chooseBuilder(options, root, log);
  const ca = caFile();

  const manifest = (await Bun.file(join(root, service, "package.json")).json()) as { version: string };
  const version = options.version ?? manifest.version;
  const meta = await sourceMetadata(root);
  const commit = options.commit ?? meta.commit;
  const created = options.created ?? meta.created;
  const source = options.sourceUrl ?? meta.sourceUrl;
  const tags = [...(options.tags ?? [])];
  if (tags.length === 0) tags.push(`${LOCAL_REPOSITORY}/${service}:${options.version ?? "dev"}`);

  const work = mkdtempSync(join(tmpdir(), "timekit-build-"));
  try {
    const iidfile = join(work, "iid");
    const buildArgs = {
      BUN_IMAGE: builder.image,
      SERVICE: service,
      BUILD_VERSION: version,
      BUILD_COMMIT: commit,
      BUILD_TIME: created,
      SOURCE_URL: source,
    };
    const argv = [
      ...client.argv,
      "--progress=plain",
      "--iidfile",
      iidfile,
      "--file",
      root === REPO_ROOT ? DOCKERFILE : join(root, "Dockerfile"),
      ...Object.entries(buildArgs).flatMap(([key, value]) => ["--build-arg", `${key}=${value}`]),
      ...(ca ? ["--secret", `id=extra_ca,src=${ca}`] : []),
      ...cacheFlags(options, client, log),
      ...(options.noCache ? ["--no-cache"] : []),
      root,
    ];
    log?.(
      `building ${service} ${version} (${commit}) with ${builder.image} [${builder.source}] via ${client.description}`,
    );
    const tail: string[] = [];
    const out = await run(argv, {
      env: { ...Bun.env, ...client.env },
      timeoutMs: 20 * 60_000,
      onLine: (line) => {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        log?.(line);
      },
    });
    if (out.exitCode !== 0) {
      const output = `${out.stdout}\n${out.stderr}`;
      throw new DeployError(
        `building the ${service} image failed (exit ${out.exitCode}):\n    ${tail.slice(-15).join("\n    ")}`,
        ExitCode.failed,
        explain(output, builder.image),
      );
    }
    const raw = (await Bun.file(iidfile).text()).trim();
    const sbom = sbomBytes(root, service, { version, commit, created });
    const id = await makeReproducible(raw, { created, tags, labels: { [SBOM_LABEL]: sha256(sbom) } });
    const info = (await inspectImage(id)) as ImageInfo;
    return {
      service,
      id,
      tags,
      repoDigests: info.repoDigests,
      version,
      commit,
      created,
      builderImage: builder.image,
      builderSource: builder.source,
      size: info.size,
      labels: info.labels,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
