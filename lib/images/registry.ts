/**
 * Reads and writes a registry without pulling whole images: manifests, tag lists and tag-to-digest
 * copies through `skopeo` (which uses the same credentials as `docker login`). Pushing image
 * content goes through the engine (`docker push`). A loopback registry (127.0.0.1, localhost) is
 * spoken to over plain HTTP, as the Docker engine does by default.
 */
import { DeployError, ExitCode, lastLines } from "../errors";
import { run } from "../exec";

/**
 * Local repository of every image this project builds or pins: `timekit/<service>:<tag>`.
 * TIMEKIT_IMAGE_NAMESPACE names another (`timekit-test-…`): test suites and release simulations
 * build, tag and remove images there and never touch a user's `timekit/*` tags.
 */
export const LOCAL_REPOSITORY = Bun.env.TIMEKIT_IMAGE_NAMESPACE || "timekit";

/** What `--version_S=known-good` names: the image `promote` last marked as tested. */
export const KNOWN_GOOD = "known-good";

/**
 * Known-good images live in their own repository path, `<registry>/known-good/<service>`:
 * `latest` is the last promoted, `X.Y.Z` each promoted version. A release's own repository only
 * ever holds what was published, so no tag there means "tested" by accident.
 */
export const knownGoodRepository = (registry: string, service: string) => `${registry}/known-good/${service}`;
export const KNOWN_GOOD_TAG = "latest";
export const knownGoodRef = (registry: string, service: string) =>
  `${knownGoodRepository(registry, service)}:${KNOWN_GOOD_TAG}`;

export interface RemoteManifest {
  /** Digest of the manifest: what `image@sha256:...` pins. */
  digest: string;
  mediaType: string;
  size: number;
  /** The image config's digest, which is the local image id of the same image. */
  configDigest: string | null;
}

/** `127.0.0.1:5000/timekit` → `127.0.0.1:5000`. */
export function registryHost(registry: string): string {
  return registry.split("/")[0] ?? registry;
}

function tlsFlags(registry: string): string[] {
  const host = registryHost(registry).replace(/:\d+$/, "");
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]" ? ["--tls-verify=false"] : [];
}

let skopeoChecked = false;
async function requireSkopeo(): Promise<void> {
  if (skopeoChecked) return;
  const out = await run(["skopeo", "--version"], { timeoutMs: 15_000 });
  if (out.exitCode !== 0) {
    throw new DeployError(
      "skopeo is not installed; it reads and tags images in the registry without pulling them",
      ExitCode.failed,
      "install it (`apt-get install skopeo`; GitHub's Ubuntu runners have it)",
    );
  }
  skopeoChecked = true;
}

export function unreachable(registry: string, detail: string): DeployError {
  return new DeployError(
    `registry ${registryHost(registry)} is unreachable: ${detail}`,
    ExitCode.failed,
    "check that the registry runs and that --registry (or REGISTRY) names it; for a private one, `docker login` first",
  );
}

const NOT_FOUND = /manifest unknown|name unknown|not found|does not exist|404/i;
export const CONNECTION =
  /connection refused|no such host|i\/o timeout|connection reset|dial tcp|server gave HTTP response/i;

/** The manifest `repo:tag` names, or null when the registry has no such tag (or repository). */
export async function remoteManifest(repo: string, tag: string): Promise<RemoteManifest | null> {
  await requireSkopeo();
  const out = await run(["skopeo", "inspect", "--raw", ...tlsFlags(repo), `docker://${repo}:${tag}`], {
    timeoutMs: 60_000,
  });
  if (out.exitCode !== 0) {
    const detail = lastLines(out, 1).join("");
    if (CONNECTION.test(detail)) throw unreachable(repo, detail);
    if (NOT_FOUND.test(detail)) return null;
    throw new DeployError(`cannot read ${repo}:${tag} from the registry: ${detail}`);
  }
  const raw = out.stdout;
  const digest = `sha256:${new Bun.CryptoHasher("sha256").update(raw).digest("hex")}`;
  let parsed: { config?: { digest?: string }; mediaType?: string } = {};
  try {
    parsed = JSON.parse(raw) as typeof parsed;
  } catch {
    // not JSON: leave the config digest and media type unknown
  }
  return {
    digest,
    mediaType: parsed.mediaType ?? "application/vnd.oci.image.manifest.v1+json",
    size: Buffer.byteLength(raw),
    configDigest: parsed.config?.digest ?? null,
  };
}

/** Every tag of a repository; empty when the repository does not exist yet. */
export async function listTags(repo: string): Promise<string[]> {
  await requireSkopeo();
  const out = await run(["skopeo", "list-tags", ...tlsFlags(repo), `docker://${repo}`], { timeoutMs: 60_000 });
  if (out.exitCode !== 0) {
    const detail = lastLines(out, 1).join("");
    if (CONNECTION.test(detail)) throw unreachable(repo, detail);
    if (NOT_FOUND.test(detail)) return [];
    throw new DeployError(`cannot list the tags of ${repo}: ${detail}`);
  }
  return (JSON.parse(out.stdout) as { Tags?: string[] | null }).Tags ?? [];
}

/**
 * Points `to:tag` at the manifest `repo@digest`, byte for byte (same digest): a promotion, never
 * a rebuild. `to` defaults to `repo`; another repository of the same registry gets the same
 * manifest and blobs. Verifies the result.
 */
export async function tagDigest(repo: string, digest: string, tag: string, to = repo): Promise<void> {
  await requireSkopeo();
  const tls = tlsFlags(repo).flatMap((f) => [f.replace("--", "--src-"), f.replace("--", "--dest-")]);
  const out = await run(
    ["skopeo", "copy", "--preserve-digests", ...tls, `docker://${repo}@${digest}`, `docker://${to}:${tag}`],
    { timeoutMs: 300_000 },
  );
  if (out.exitCode !== 0) {
    const detail = lastLines(out, 1).join("");
    if (CONNECTION.test(detail)) throw unreachable(repo, detail);
    throw new DeployError(`cannot tag ${repo}@${digest} as ${to}:${tag}: ${detail}`);
  }
  const now = await remoteManifest(to, tag);
  if (now?.digest !== digest) {
    throw new DeployError(`tagged ${to}:${tag} but it names ${now?.digest ?? "nothing"}, not ${digest}`);
  }
}

/**
 * Pushes what an OCI layout names `ref` to `repo:tag`, exactly (`--preserve-digests`: no
 * conversion, no recompression), so the registry's digest is the one computed here. An index
 * is pushed with every manifest it lists.
 */
export async function pushLayout(layout: string, ref: string, repo: string, tag: string): Promise<void> {
  await requireSkopeo();
  const tls = tlsFlags(repo).map((f) => f.replace("--", "--dest-"));
  const out = await run(
    ["skopeo", "copy", "--all", "--preserve-digests", ...tls, `oci:${layout}:${ref}`, `docker://${repo}:${tag}`],
    { timeoutMs: 900_000 },
  );
  if (out.exitCode !== 0) {
    const detail = lastLines(out, 1).join("");
    if (CONNECTION.test(detail)) throw unreachable(repo, detail);
    throw new DeployError(
      `pushing ${repo}:${tag} failed: ${detail}`,
      ExitCode.failed,
      /denied|unauthorized|authentication/i.test(detail)
        ? `log in first: docker login ${registryHost(repo)} (skopeo reads the same credentials)`
        : "check that the registry runs and is reachable",
    );
  }
}

/** The labels of the image `repo:tag` names (its config), or null when there is no such tag. */
export async function remoteLabels(repo: string, tag: string): Promise<Record<string, string> | null> {
  await requireSkopeo();
  const out = await run(["skopeo", "inspect", ...tlsFlags(repo), `docker://${repo}:${tag}`], { timeoutMs: 60_000 });
  if (out.exitCode !== 0) {
    const detail = lastLines(out, 1).join("");
    if (CONNECTION.test(detail)) throw unreachable(repo, detail);
    if (NOT_FOUND.test(detail)) return null;
    throw new DeployError(`cannot read ${repo}:${tag} from the registry: ${detail}`);
  }
  return (JSON.parse(out.stdout) as { Labels?: Record<string, string> | null }).Labels ?? {};
}
