/**
 * services.ts must name every file that can change a service's image. These tests compare it
 * with the two things that decide what goes into an image: each service's import graph (what
 * the bundler compiles in) and the .dockerignore allowlist (what the build can read at all).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { fileBelongsTo, gitPathspecs, RELEASE_PATHS, ROOT_BUILD_INPUTS } from "../../lib/release/services";
import { SERVICES, type ServiceName } from "../../lib/services";
import { repositoryImportGraph } from "./import-graph";

const REPO_ROOT = join(import.meta.dir, "..", "..");

function fullyCovered(service: ServiceName, path: string): boolean {
  return (
    fileBelongsTo(service, path, "release") ||
    RELEASE_PATHS[service].some((pattern) => pattern.endsWith("/") && `${path}/`.startsWith(pattern))
  );
}

describe("every file a service's binary is compiled from is a release input of that service", () => {
  test.each(SERVICES)("%s", (service) => {
    const graph = repositoryImportGraph(REPO_ROOT, `${service}/src/main.ts`);
    expect(graph.length).toBeGreaterThan(3);
    expect(graph.filter((file) => !fileBelongsTo(service, file, "release"))).toEqual([]);
  });

  test("service2 reaches nothing of service1 but its contract", () => {
    const graph = repositoryImportGraph(REPO_ROOT, "service2/src/main.ts");
    expect(graph.filter((file) => file.startsWith("service1/"))).toEqual(["service1/src/contract.ts"]);
  });

  test("the builder stage's code is an input of both services", () => {
    const graph = repositoryImportGraph(REPO_ROOT, "lib/images/builder-stage.ts");
    for (const service of SERVICES) {
      expect(graph.filter((file) => !fileBelongsTo(service, file, "release"))).toEqual([]);
    }
  });
});

describe("the .dockerignore allowlist and the release paths agree", () => {
  /**
   * What the build context may hold without being (wholly) an input: the other service's
   * sources and manifest (needed by `bun install` of the workspace, never compiled in; the
   * import-graph tests above prove it), and all of packages/ of which only the runtime is used.
   */
  const deliberatelyOutside: Record<ServiceName, string[]> = {
    service1: ["packages", "service2/package.json", "service2/src"],
    service2: ["packages", "service1/package.json", "service1/src"],
  };

  test.each(SERVICES)("%s", async (service) => {
    const dockerignore = await Bun.file(join(REPO_ROOT, ".dockerignore")).text();
    const allowed = dockerignore
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith("!"))
      .map((line) => line.slice(1).replace(/^\/|\/$/g, ""));
    expect(allowed.length).toBeGreaterThan(5);
    expect(allowed.filter((path) => !fullyCovered(service, path))).toEqual(deliberatelyOutside[service]);
  });

  test("the Dockerfile and .dockerignore themselves are inputs of every service", () => {
    for (const service of SERVICES) {
      expect(RELEASE_PATHS[service]).toEqual(expect.arrayContaining([...ROOT_BUILD_INPUTS]));
      expect(fileBelongsTo(service, "Dockerfile", "release")).toBe(true);
      expect(fileBelongsTo(service, ".dockerignore", "release")).toBe(true);
    }
  });
});

describe("gitPathspecs", () => {
  test("are literal and anchored at the top, with directories as prefixes", () => {
    expect(gitPathspecs("service2", "release")).toEqual(
      expect.arrayContaining([
        ":(top,literal)service2",
        ":(top,literal)service1/src/contract.ts",
        ":(top,literal)bun.lock",
      ]),
    );
    expect(gitPathspecs("service2", "release")).not.toContain(":(top,literal)service1");
  });
});
