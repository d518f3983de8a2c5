/**
 * Reads and writes a registry without pulling whole images: manifests, tag lists and tag-to-digest
 * copies through `skopeo` (which uses the same credentials as `docker login`). Pushing image
 * content goes through the engine (`docker push`). A loopback registry (127.0.0.1, localhost) is
 * spoken to over plain HTTP, as the Docker engine does by default.
 */
import { DeployError, ExitCode, lastLines } from "../errors";
import { run } from "../exec";

/** Local repository of every image this project builds or pins: `timekit/<service>:<tag>`. */
export const LOCAL_REPOSITORY = "timekit";

/** The floating tag `promote` moves and `--version_S=known-good` deploys. */
export const KNOWN_GOOD = "known-good";

export interface RemoteManifest {
  /** Digest of the manifest: what `image@sha256:...` pins. */
  digest: string;
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
  let configDigest: string | null = null;
  try {
    configDigest = (JSON.parse(raw) as { config?: { digest?: string } }).config?.digest ?? null;
  } catch {
    // not JSON: leave the config digest unknown
  }
  return { digest, configDigest };
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
 * Points `repo:tag` at the manifest `repo@digest`, byte for byte (same digest): a promotion,
 * never a rebuild. Verifies the result.
 */
export async function tagDigest(repo: string, digest: string, tag: string): Promise<void> {
  await requireSkopeo();
  const tls = tlsFlags(repo).flatMap((f) => [f.replace("--", "--src-"), f.replace("--", "--dest-")]);
  const out = await run(
    ["skopeo", "copy", "--preserve-digests", ...tls, `docker://${repo}@${digest}`, `docker://${repo}:${tag}`],
    { timeoutMs: 300_000 },
  );
  if (out.exitCode !== 0) {
    const detail = lastLines(out, 1).join("");
    if (CONNECTION.test(detail)) throw unreachable(repo, detail);
    throw new DeployError(`cannot tag ${repo}@${digest} as ${tag}: ${detail}`);
  }
  const now = await remoteManifest(repo, tag);
  if (now?.digest !== digest) {
    throw new DeployError(`tagged ${repo}:${tag} but it names ${now?.digest ?? "nothing"}, not ${digest}`);
  }
}
