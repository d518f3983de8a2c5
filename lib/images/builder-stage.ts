/**
 * Runs inside the Dockerfile's builder stage, by exec-form RUN (the local builder has no shell):
 * compiles $SERVICE with scripts/build.ts, then lays out the final image's whole filesystem in
 * /rootfs, which the `FROM scratch` stage copies in one step. Build arguments arrive as
 * environment variables: SERVICE, and BUILD_VERSION, BUILD_COMMIT, BUILD_TIME for build.ts.
 */
import { join, resolve } from "node:path";
import { isServiceName, SERVICES } from "../services";
import { assembleRootfs } from "./rootfs";

/** Fixed so the Dockerfile's exec-form ENTRYPOINT and HEALTHCHECK can name it. */
export const IMAGE_BINARY = "/usr/local/bin/service";

export interface StageOptions {
  service: string;
  /** The checkout inside the builder. */
  root: string;
  /** Where scripts/build.ts writes the binary. */
  outdir: string;
  /** The final image's filesystem. */
  rootfs: string;
}

/** Compiles and lays out the image; returns the exit code and prints what it did. */
export function runStage(options: StageOptions): number {
  const { service, root } = options;
  if (!isServiceName(service)) {
    console.error(
      `builder-stage: build argument SERVICE must be one of ${SERVICES.join(", ")}; got ${JSON.stringify(service)}`,
    );
    return 2;
  }
  const compile = Bun.spawnSync(
    [process.execPath, join(root, "scripts/build.ts"), `--service=${service}`, `--outdir=${options.outdir}`],
    { cwd: root, stdout: "inherit", stderr: "inherit" },
  );
  if (compile.exitCode !== 0) {
    console.error(`builder-stage: scripts/build.ts failed with exit code ${compile.exitCode}`);
    return 1;
  }
  const files = assembleRootfs({
    out: options.rootfs,
    executables: [{ source: join(options.outdir, service), path: IMAGE_BINARY }],
    users: true,
  });
  console.log(`builder-stage: ${service} image filesystem:\n  ${files.join("\n  ")}`);
  return 0;
}

if (import.meta.main) {
  process.exit(
    runStage({
      service: Bun.env.SERVICE ?? "",
      root: resolve(import.meta.dir, "../.."),
      outdir: "/build",
      rootfs: "/rootfs",
    }),
  );
}
