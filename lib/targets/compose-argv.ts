/**
 * Docker Compose command lines, as pure functions (table-tested in tests/targets). Every command
 * names the project, the project directory and both files explicitly, so it works the same from
 * any working directory and with Compose v2 (`docker compose`) or v1.29 (`docker-compose`).
 */
import type { ServiceName } from "../services";

export interface ComposeProject {
  /** `["docker", "compose"]` or `["docker-compose"]`. */
  command: readonly string[];
  project: string;
  directory: string;
  /** compose.yaml, then the override this CLI writes. */
  files: readonly string[];
}

function base(p: ComposeProject): string[] {
  return [
    ...p.command,
    "--project-name",
    p.project,
    "--project-directory",
    p.directory,
    ...p.files.flatMap((file) => ["-f", file]),
  ];
}

export const composeArgv = {
  version: (command: readonly string[]) => [...command, "version", "--short"],
  /** Starts (or recreates) one service at `replicas`, leaving the other alone. */
  up: (p: ComposeProject, service: ServiceName, replicas: number) => [
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
  down: (p: ComposeProject, volumes: boolean) => [
    ...base(p),
    "down",
    "--remove-orphans",
    ...(volumes ? ["--volumes"] : []),
  ],
  /** The labels Compose puts on a service's containers (what `docker ps --filter` finds them by). */
  labels: (project: string, service: ServiceName) => ({
    "com.docker.compose.project": project,
    "com.docker.compose.service": service,
  }),
};

/** Interpolation variables compose.yaml reads (and nothing it does not). */
export function composeVariables(port: number): Record<string, string> {
  return { SERVICE2_PORT: String(port) };
}
