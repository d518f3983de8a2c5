/**
 * A minimal CycloneDX 1.5 SBOM of one service's JavaScript dependencies, read from bun.lock: the
 * service's workspace, its production dependencies and theirs, transitively, each with its exact
 * version, purl and lockfile integrity hash. (`@cyclonedx/cyclonedx-npm` reads npm's lockfile, not
 * Bun's text lockfile; this needs no extra dependency.) What is compiled into the binary is a
 * subset of this list: Bun's bundler drops unreachable modules.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServiceName } from "../services";

interface Workspace {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
type PackageEntry = [string, string, { dependencies?: Record<string, string> }?, string?];
interface Lockfile {
  workspaces: Record<string, Workspace>;
  packages: Record<string, PackageEntry>;
}

/** bun.lock is JSON with trailing commas. */
export function parseBunLock(text: string): Lockfile {
  return JSON.parse(text.replace(/,(\s*[}\]])/g, "$1")) as Lockfile;
}

function purl(name: string, version: string): string {
  const encoded = name.startsWith("@") ? `%40${name.slice(1)}` : name;
  return `pkg:npm/${encoded}@${version}`;
}

/** SRI `sha512-<base64>` → CycloneDX hash. */
function hashOf(integrity: string | undefined): { alg: string; content: string }[] {
  const match = integrity?.match(/^sha(256|384|512)-(.+)$/);
  if (!match?.[1] || !match[2]) return [];
  return [{ alg: `SHA-${match[1]}`, content: Buffer.from(match[2], "base64").toString("hex") }];
}

export function serviceSbom(
  root: string,
  service: ServiceName,
  meta: { version: string; commit: string; created: string },
): Record<string, unknown> {
  const lock = parseBunLock(readFileSync(join(root, "bun.lock"), "utf8"));
  const byName = new Map<string, string>();
  for (const [path, ws] of Object.entries(lock.workspaces)) if (ws.name) byName.set(ws.name, path);

  const components = new Map<string, Record<string, unknown>>();
  const dependencies = new Map<string, Set<string>>();
  const rootRef = `${purl(`@timekit/${service}`, meta.version)}`;

  // Walk from the service workspace; workspace: dependencies are walked into, not listed.
  const queue: Array<{ from: string; deps: Record<string, string> }> = [];
  const visitedWorkspaces = new Set<string>();
  const enqueueWorkspace = (path: string, from: string) => {
    if (visitedWorkspaces.has(path)) return;
    visitedWorkspaces.add(path);
    const ws = lock.workspaces[path];
    if (ws) queue.push({ from, deps: { ...ws.dependencies, ...ws.optionalDependencies } });
  };
  enqueueWorkspace(service, rootRef);
  while (queue.length > 0) {
    const { from, deps } = queue.shift() as { from: string; deps: Record<string, string> };
    for (const [name, range] of Object.entries(deps)) {
      if (range.startsWith("workspace:")) {
        const path = byName.get(name);
        if (path) enqueueWorkspace(path, from);
        continue;
      }
      const entry = lock.packages[name];
      if (!entry) continue;
      const [spec, , info, integrity] = entry;
      const version = spec.slice(spec.lastIndexOf("@") + 1);
      const ref = purl(name, version);
      const edges = dependencies.get(from) ?? new Set<string>();
      dependencies.set(from, edges);
      edges.add(ref);
      if (components.has(ref)) continue;
      components.set(ref, {
        type: "library",
        "bom-ref": ref,
        name,
        version,
        purl: ref,
        hashes: hashOf(integrity),
      });
      queue.push({ from: ref, deps: info?.dependencies ?? {} });
    }
  }
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    version: 1,
    metadata: {
      timestamp: meta.created,
      tools: { components: [{ type: "application", name: "timekit deploy.ts publish" }] },
      component: {
        type: "container",
        "bom-ref": rootRef,
        name: `timekit-${service}`,
        version: meta.version,
        properties: [{ name: "vcs:commit", value: meta.commit }],
      },
    },
    components: [...components.values()].sort((a, b) => String(a.name).localeCompare(String(b.name))),
    dependencies: [...dependencies.entries()].map(([ref, on]) => ({ ref, dependsOn: [...on].sort() })),
  };
}

/** The image label holding the sha256 of the SBOM `publish` writes for that image. */
export const SBOM_LABEL = "io.timekit.sbom.digest";

/**
 * The SBOM as published: the bytes of the `.cdx.json` file, the OCI referrer and the GitHub
 * Release asset, whose sha256 the image's SBOM_LABEL records. A function of bun.lock, the
 * version, the commit and the creation time only, so a rebuild gives the same bytes.
 */
export function sbomBytes(
  root: string,
  service: ServiceName,
  meta: { version: string; commit: string; created: string },
) {
  return Buffer.from(`${JSON.stringify(serviceSbom(root, service, meta), null, 2)}\n`);
}
