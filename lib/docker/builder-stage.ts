/**
 * Runs inside the Dockerfile's builder stage, by exec-form RUN (the local builder has no shell):
 * compiles $SERVICE with scripts/build.ts, then lays out the final image's whole filesystem in
 * /rootfs, which the `FROM scratch` stage copies in one step. Build arguments arrive as
 * environment variables: SERVICE, and BUILD_VERSION, BUILD_COMMIT, BUILD_TIME for build.ts.
 */
import { join } from "node:path";
import { assembleRootfs } from "./rootfs";

const SERVICES = ["service1", "service2"];
/** Fixed so the Dockerfile's exec-form ENTRYPOINT and HEALTHCHECK can name it. */
const IMAGE_BINARY = "/usr/local/bin/service";
const OUTDIR = "/build";
const ROOTFS = "/rootfs";

const service = Bun.env.SERVICE ?? "";
if (!SERVICES.includes(service)) {
  console.error(
    `builder-stage: build argument SERVICE must be one of ${SERVICES.join(", ")}; got ${JSON.stringify(service)}`,
  );
  process.exit(2);
}

const root = new URL("../..", import.meta.url).pathname;
const compile = Bun.spawnSync(
  [process.execPath, join(root, "scripts/build.ts"), `--service=${service}`, `--outdir=${OUTDIR}`],
  { cwd: root, stdout: "inherit", stderr: "inherit" },
);
if (compile.exitCode !== 0) {
  console.error(`builder-stage: scripts/build.ts failed with exit code ${compile.exitCode}`);
  process.exit(1);
}

const files = assembleRootfs({
  out: ROOTFS,
  executables: [{ source: join(OUTDIR, service), path: IMAGE_BINARY }],
  users: true,
});
console.log(`builder-stage: ${service} image filesystem:\n  ${files.join("\n  ")}`);
