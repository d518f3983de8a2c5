/**
 * Helpers for the deploy suites that need Docker: the CLI as a process, a real registry
 * (Debian's `docker-registry`) on 127.0.0.1 with its storage in a temp dir, and release images
 * of each test version made from one real build.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, run, waitFor } from "../support/docker";

export const ROOT = resolve(import.meta.dir, "../..");
/** A fixed commit for test builds: rebuilding an unchanged tree is a cache hit. */
export const TEST_COMMIT = "0badc0ffee00";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `bun deploy.ts` as a process in `cwd` (default this checkout; a temp clone for the pipeline). */
export function cli(env: Record<string, string>, cwd = ROOT) {
  return async (args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> => {
    const proc = Bun.spawn(["bun", "deploy.ts", ...args], {
      cwd,
      env: { ...process.env, REGISTRY: "", BUILD_COMMIT: TEST_COMMIT, ...env, ...extraEnv },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, stdout, stderr };
  };
}

export interface Registry {
  /** `127.0.0.1:PORT/timekit`, what --registry takes. */
  repo: string;
  stop(): Promise<void>;
}

/** `docker-registry serve` on a free loopback port; storage and config in a temp dir. */
export async function startRegistry(): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), "timekit-test-registry-"));
  const port = freePort();
  mkdirSync(join(dir, "data"));
  writeFileSync(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "log: { level: warn }",
      "storage:",
      `  filesystem: { rootdirectory: ${join(dir, "data")} }`,
      "  delete: { enabled: true }",
      `http: { addr: 127.0.0.1:${port} }`,
      "",
    ].join("\n"),
  );
  const proc = Bun.spawn(["docker-registry", "serve", join(dir, "config.yml")], { stdout: "ignore", stderr: "pipe" });
  const stop = async () => {
    proc.kill("SIGTERM");
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      "the test registry to answer",
      async () => {
        if (proc.exitCode !== null) throw new Error(`docker-registry exited with ${proc.exitCode}`);
        return (await fetch(`http://127.0.0.1:${port}/v2/`)).status === 200 ? true : undefined;
      },
      20_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { repo: `127.0.0.1:${port}/timekit`, stop };
}

/**
 * A release image of another version without recompiling: the built image with another version
 * label. `broken` makes the health check fail while the server runs: the binary moves to
 * /usr/local/bin/app (the entrypoint) and the path compose.yaml's healthcheck executes becomes a
 * plain text file, so every check fails with "permission denied" and the container turns
 * unhealthy, exactly like a release whose health check fails.
 */
export async function deriveImage(
  from: string,
  to: string,
  version: string,
  broken = false,
  labels: Record<string, string> = {},
): Promise<void> {
  const ctx = mkdtempSync(join(tmpdir(), "timekit-test-derive-"));
  try {
    const lines = broken
      ? [
          `FROM ${from} AS good`,
          "FROM scratch",
          "COPY --from=good / /",
          "COPY --from=good /usr/local/bin/service /usr/local/bin/app",
          "COPY --from=good /etc/passwd /usr/local/bin/service",
          "USER 65532:65532",
          'ENTRYPOINT ["/usr/local/bin/app"]',
        ]
      : [`FROM ${from}`];
    const extra = Object.entries(labels).map(([key, value]) => ` ${key}="${value}"`);
    lines.push(`LABEL org.opencontainers.image.version="${version}" timekit.test="true"${extra.join("")}`);
    writeFileSync(join(ctx, "Dockerfile"), `${lines.join("\n")}\n`);
    const out = await run(["docker", "build", "-q", "-t", to, ctx], {
      env: { DOCKER_BUILDKIT: "0" },
      timeoutMs: 120_000,
    });
    if (out.exitCode !== 0) throw new Error(`deriving ${to} failed: ${out.stderr}`);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

export async function containerIds(project: string, service: string): Promise<string[]> {
  const out = await run([
    "docker",
    "ps",
    "-q",
    "--no-trunc",
    "--filter",
    `label=com.docker.compose.project=${project}`,
    "--filter",
    `label=com.docker.compose.service=${service}`,
  ]);
  return out.stdout.split("\n").filter(Boolean).sort();
}

/** Removes every container of a project (whatever state) and its network. */
export async function removeProject(project: string): Promise<void> {
  const out = await run(["docker", "ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`]);
  const ids = out.stdout.split("\n").filter(Boolean);
  if (ids.length) await run(["docker", "rm", "-f", "-v", ...ids], { timeoutMs: 60_000 });
  await run(["docker", "network", "rm", `${project}_backend`]);
}

/** GET /v1/format through service2 until it answers with data from service1. */
export async function answers(port: number, deadlineMs = 40_000): Promise<boolean> {
  const end = performance.now() + deadlineMs;
  while (performance.now() < end) {
    const res = await fetch(`http://127.0.0.1:${port}/v1/format`).catch(() => null);
    if (res?.status === 200 && typeof ((await res.json()) as { epochMs?: unknown }).epochMs === "number") return true;
    await Bun.sleep(250);
  }
  return false;
}

/** A steady client: `workers` loops of GET /v1/format until stopped; counts every outcome. */
export function steadyClient(port: number, workers = 2) {
  let running = true;
  const stats = { ok: 0, failed: 0, failures: [] as string[] };
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v1/format`, { signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.status === 200) stats.ok++;
        else {
          stats.failed++;
          stats.failures.push(`HTTP ${res.status}`);
        }
      } catch (error) {
        stats.failed++;
        stats.failures.push(String(error));
      }
      await Bun.sleep(10);
    }
  });
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
      return stats;
    },
  };
}

/** Every tag of `repo` in the registry with the digest it names, via skopeo (no pull). */
export async function registryDigests(repo: string): Promise<Record<string, string>> {
  const list = await run(["skopeo", "list-tags", "--tls-verify=false", `docker://${repo}`]);
  if (list.exitCode !== 0) return {};
  const tags = (JSON.parse(list.stdout) as { Tags?: string[] | null }).Tags ?? [];
  const out: Record<string, string> = {};
  for (const tag of tags.sort()) {
    const raw = await run(["skopeo", "inspect", "--raw", "--tls-verify=false", `docker://${repo}:${tag}`]);
    if (raw.exitCode !== 0) throw new Error(`skopeo inspect ${repo}:${tag} failed: ${raw.stderr}`);
    out[tag] = `sha256:${new Bun.CryptoHasher("sha256").update(raw.stdout).digest("hex")}`;
  }
  return out;
}
