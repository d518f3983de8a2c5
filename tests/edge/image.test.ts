/**
 * edge/Dockerfile is the edge image's one definition. `bun deploy.ts` builds its final stage with
 * the local Caddy (lib/images/edge.ts); `docker compose up --build` builds the file as it is, with
 * Caddy from the official image. No registry answers here, so the Compose build runs with
 * CADDY_IMAGE pointed at a local image that holds a Caddy binary at the official image's path:
 * the build itself (Compose v1.29's classic builder), and that both images agree on everything but
 * where Caddy came from, are what is checked. Running the official static binary is not.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EDGE_BINARY, EDGE_DOCKERFILE, ensureEdgeImage, localDockerfile } from "../../lib/images/edge";
import { ComposeProject, composeCli } from "../support/compose";
import { removeRunImages, runRepository } from "../support/deploy-images";
import { inspect, requireDocker, run, unavailable, uniqueName } from "../support/docker";

const definition = readFileSync(EDGE_DOCKERFILE, "utf8");

describe("localDockerfile: edge/Dockerfile's final stage with the local Caddy", () => {
  test("only the line that copies Caddy from the official image changes, and labels are added", () => {
    const local = localDockerfile(definition, "2.6.2", "2.6.2-abc", "repo/edge:2.6.2-abc");
    const finalStage = definition.slice(definition.lastIndexOf("\nFROM scratch\n") + 1);
    expect(
      local.startsWith(finalStage.replace(`COPY --from=caddy ${EDGE_BINARY} ${EDGE_BINARY}`, "COPY rootfs/ /")),
    ).toBe(true);
    expect(local).not.toContain("--from=caddy");
    expect(local).not.toContain("CADDY_IMAGE");
    expect(local).toContain('org.opencontainers.image.version="2.6.2-abc"');
  });

  test("a definition without that line, or without a final scratch stage, is refused by name", () => {
    expect(() => localDockerfile("FROM scratch\nCOPY x /x\n", "2.6.2", "", "")).toThrow(/COPY --from=caddy/);
    expect(() => localDockerfile(definition.replace(/FROM scratch/g, "FROM busybox"), "2.6.2", "", "")).toThrow(
      /FROM scratch/,
    );
  });
});

const compose = await composeCli();
const hasDocker =
  (await requireDocker("edge image suite")) &&
  (compose !== null || unavailable("edge image suite", "neither `docker compose` nor `docker-compose` answers"));

describe.skipIf(!hasDocker)("the edge image through Compose's build", () => {
  const repository = runRepository("edge-image");
  let local = "";
  let built = "";

  beforeAll(async () => {
    local = (await ensureEdgeImage({ repository })).image;
    built = `${repository}/edge:compose-build`;
    const project = await ComposeProject.create(compose as NonNullable<typeof compose>, uniqueName("edge-image"), {
      EDGE_IMAGE: built,
      // Stands in for caddy:2.6.2: an image with a Caddy binary at /usr/bin/caddy.
      CADDY_IMAGE: local,
    });
    await project.compose(["build", "edge"], 600_000);
  }, 600_000);

  afterAll(async () => {
    await removeRunImages();
  }, 120_000);

  test("Compose builds edge/Dockerfile, and the image is configured as the one the deploy assembles", async () => {
    const [a, b] = [(await inspect(built)).Config, (await inspect(local)).Config];
    for (const key of ["User", "Entrypoint", "Cmd", "Env", "ExposedPorts", "Healthcheck", "StopSignal"]) {
      expect({ [key]: a[key] }).toEqual({ [key]: b[key] });
    }
    expect(a.User).toBe("65532:65532");
    expect(a.Labels["io.timekit.edge"]).toBe("true");
  });

  test("it holds Caddy and the Caddyfile only: no shell, nothing else from the Caddy image", async () => {
    const container = (await run(["docker", "create", built])).stdout.trim();
    const dir = mkdtempSync(join(tmpdir(), "timekit-test-edge-image-"));
    try {
      await run(["docker", "export", "--output", join(dir, "rootfs.tar"), container]);
      const listing = await run(["tar", "-tf", join(dir, "rootfs.tar")]);
      const files = listing.stdout
        .split("\n")
        .filter((f) => f && !f.endsWith("/"))
        // What the engine adds to every container.
        .filter((f) => !/^(\.dockerenv|dev\/.*|etc\/(hostname|hosts|mtab|resolv\.conf))$/.test(f));
      expect(files.sort()).toEqual(["etc/caddy/Caddyfile", "usr/bin/caddy"]);
    } finally {
      await run(["docker", "rm", "-f", container]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
