/**
 * Docker Compose command lines, as pure functions (table-tested in tests/targets). Every command
 * names the project, the project directory, the environment file and both compose files
 * explicitly, so it works the same from any working directory and with Compose v2
 * (`docker compose`) or v1.29 (`docker-compose`), and never reads a `.env` beside compose.yaml.
 */
import type { ServiceName } from "../services";

export interface ComposeProject {
  /** `["docker", "compose"]` or `["docker-compose"]`. */
  command: readonly string[];
  project: string;
  directory: string;
  /** compose.yaml (and compose.direct.yaml without the edge), then the override this CLI writes. */
  files: readonly string[];
  /** The interpolation variables this CLI writes (instead of the project directory's `.env`). */
  envFile: string;
}

/** The Compose services a deploy runs: the two of the contract and the edge in front of service2. */
export type ComposeService = ServiceName | "edge";

/** The label naming the service of a container Compose created. */
export const SERVICE_LABEL = "com.docker.compose.service";

/** Label on a canary container, so anything left of one is found again. */
export const CANARY_LABEL = "io.timekit.deploy.canary";

function base(p: ComposeProject): string[] {
  return [
    ...p.command,
    "--project-name",
    p.project,
    "--project-directory",
    p.directory,
    "--env-file",
    p.envFile,
    ...p.files.flatMap((file) => ["-f", file]),
  ];
}

/** Subcommands that end in the same state however often they run: safe to run again. */
const CONVERGING = new Set(["up", "down"]);

export const composeArgv = {
  /** Whether `argv` (built by this object for `p`) runs a subcommand that is safe to run again. */
  converges: (p: ComposeProject, argv: readonly string[]) => CONVERGING.has(argv[base(p).length] ?? ""),
  version: (command: readonly string[]) => [...command, "version", "--short"],
  /** Starts (or recreates) one service at `replicas`, leaving the other alone. */
  up: (p: ComposeProject, service: ComposeService, replicas: number) => [
    ...base(p),
    "up",
    "-d",
    "--no-deps",
    "--no-build",
    "--scale",
    `${service}=${replicas}`,
    service,
  ],
  /** New containers beside the running ones (`--no-recreate` keeps those): `total` = old + new. */
  surge: (p: ComposeProject, service: ServiceName, total: number) => [
    ...base(p),
    "up",
    "-d",
    "--no-deps",
    "--no-build",
    "--no-recreate",
    "--scale",
    `${service}=${total}`,
    service,
  ],
  /**
   * A canary: one container of the service as the override describes it, on the project's
   * network but without the service's network alias (so service2 never calls it) and without
   * published ports (so it never takes service2's). One-off containers carry no restart policy.
   */
  canary: (p: ComposeProject, service: ServiceName, name: string) => [
    ...base(p),
    "run",
    "-d",
    "-T",
    "--no-deps",
    "--name",
    name,
    "--label",
    `${CANARY_LABEL}=${service}`,
    service,
  ],
  /** The merged configuration, interpolated with exactly what the deploy hands Compose. */
  config: (p: ComposeProject) => [...base(p), "config"],
  down: (p: ComposeProject, volumes: boolean) => [
    ...base(p),
    "down",
    "--remove-orphans",
    ...(volumes ? ["--volumes"] : []),
  ],
  /** The labels Compose puts on the project's own containers (one-off `run` containers excluded). */
  projectLabels: (project: string) => ({
    "com.docker.compose.project": project,
    "com.docker.compose.oneoff": "False",
  }),
  /** The same for one service's containers. */
  labels: (project: string, service: ComposeService) => ({
    ...composeArgv.projectLabels(project),
    [SERVICE_LABEL]: service,
  }),
  /** The labels of a service's canaries (see `canary`). */
  canaryLabels: (project: string, service: ServiceName) => ({
    "com.docker.compose.project": project,
    "com.docker.compose.oneoff": "True",
    [CANARY_LABEL]: service,
  }),
};

/** The environment-file text: the interpolation variables compose.yaml reads that the deploy sets. */
export function composeEnvFile(port: number): string {
  return `# Written by deploy.ts: the only variables Compose interpolates for a deploy.\nSERVICE2_PORT=${port}\n`;
}

/**
 * The environment Compose itself runs with: what the Docker client needs to find and trust the
 * engine, nothing else (no shell variable reaches compose.yaml's interpolation this way).
 */
export const DOCKER_CLIENT_VARIABLES = [
  "PATH",
  "HOME",
  "DOCKER_HOST",
  "DOCKER_CONFIG",
  "DOCKER_CONTEXT",
  "DOCKER_TLS_VERIFY",
  "DOCKER_CERT_PATH",
] as const;

export function composeEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of DOCKER_CLIENT_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== "") picked[name] = value;
  }
  return picked;
}

/** A value for a Compose file: `$` doubled, so Compose hands it over literally instead of interpolating. */
export function composeLiteral(value: string): string {
  return value.replaceAll("$", "$$$$");
}
