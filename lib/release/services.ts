/**
 * Which repository paths belong to which service: the one place both versioning (which commits
 * count towards a service's next version) and CI change detection (which services to rebuild
 * and test) read from.
 *
 * A path ending in "/" names a whole directory; any other path names exactly one file.
 *
 * Why these lists:
 * - A service's inputs are what can change the bytes of its image: its own folder, the shared
 *   runtime compiled into it, the root files that steer install and build (lockfile, workspace
 *   manifest, compiler and Bun settings, the Dockerfile, the .dockerignore allowlist that makes
 *   the build context, the build script), and the code the Dockerfile's builder stage runs to
 *   lay out the image's filesystem. tests/release/services.test.ts keeps these lists in step
 *   with the .dockerignore allowlist and with each service's real import graph.
 * - service2 imports service1's contract (route path + response schema) and nothing else of
 *   service1, so only `service1/src/contract.ts` belongs to service2. A change anywhere else in
 *   service1 must not give service2 a new version.
 * - `service1/package.json` is deliberately NOT an input of service2, although its `exports` map
 *   is how `@timekit/service1/contract` resolves: that file also carries service1's version, and
 *   every service1 release would otherwise count as a service2 change. A broken `exports` map
 *   still fails service2's typecheck, which CI runs on every change.
 * - Pipeline files (deploy CLI, compose file, Docker suite, CI workflow) go into no image, so
 *   they never bump a version; but they decide whether images work, so a change to them re-runs
 *   every service's Docker suite in CI.
 */

import type { ServiceName } from "../services";

/** Root files that steer dependency install and compilation of every service. */
export const ROOT_BUILD_INPUTS = [
  "bun.lock",
  "package.json",
  "tsconfig.json",
  "bunfig.toml",
  "Dockerfile",
  ".dockerignore",
  "scripts/build.ts",
] as const;

/** What the Dockerfile's builder stage runs (`bun lib/images/builder-stage.ts`) and imports. */
export const IMAGE_BUILDER_CODE = [
  "lib/images/builder-stage.ts",
  "lib/images/rootfs.ts",
  "lib/images/elf.ts",
  "lib/services.ts",
] as const;

const SHARED_PACKAGES = ["packages/runtime/"] as const;

/** Paths whose changes can alter a service's image: they count towards its version. */
export const RELEASE_PATHS: Readonly<Record<ServiceName, readonly string[]>> = {
  service1: ["service1/", ...SHARED_PACKAGES, ...ROOT_BUILD_INPUTS, ...IMAGE_BUILDER_CODE],
  service2: ["service2/", ...SHARED_PACKAGES, "service1/src/contract.ts", ...ROOT_BUILD_INPUTS, ...IMAGE_BUILDER_CODE],
};

/** Paths that go into no image but test or ship every image: CI re-verifies all services. */
export const PIPELINE_PATHS = [
  "deploy.ts",
  "scripts/builder-image.ts",
  "compose.yaml",
  "lib/",
  "tests/docker/",
  ".github/workflows/ci.yml",
] as const;

export type PathPurpose = "release" | "ci";

export function servicePaths(service: ServiceName, purpose: PathPurpose): readonly string[] {
  const release = RELEASE_PATHS[service];
  return purpose === "release" ? release : [...release, ...PIPELINE_PATHS];
}

/** `file` is repository-relative with forward slashes, as git prints it. */
export function pathMatches(pattern: string, file: string): boolean {
  return pattern.endsWith("/") ? file.startsWith(pattern) : file === pattern;
}

export function fileBelongsTo(service: ServiceName, file: string, purpose: PathPurpose): boolean {
  return servicePaths(service, purpose).some((pattern) => pathMatches(pattern, file));
}

/**
 * Git pathspecs for `git log`/`git diff -- <pathspecs>`, anchored at the repository top and
 * taken literally so no path is ever read as a glob.
 */
export function gitPathspecs(service: ServiceName, purpose: PathPurpose): string[] {
  return servicePaths(service, purpose).map((pattern) => `:(top,literal)${pattern.replace(/\/$/, "")}`);
}
