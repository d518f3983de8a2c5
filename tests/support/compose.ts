/**
 * Runs the repository's compose.yaml as a throwaway project (`timekit-test-...`) with whichever
 * Compose is installed: v2 (`docker compose`) preferred, else v1.29 (`docker-compose`).
 */
import { join } from "node:path";
import { docker, run } from "./docker";

export const REPO_ROOT = join(import.meta.dir, "../..");
export const COMPOSE_FILE = join(REPO_ROOT, "compose.yaml");

export interface ComposeCli {
  argv: string[];
  version: string;
}

let detected: Promise<ComposeCli | null> | undefined;

/** The Compose command that answers here, or null. */
export function composeCli(): Promise<ComposeCli | null> {
  detected ??= (async () => {
    for (const argv of [["docker", "compose"], ["docker-compose"]]) {
      const out = await run([...argv, "version", "--short"], { timeoutMs: 30_000 }).catch(() => null);
      const version = out?.exitCode === 0 ? out.stdout.trim() : "";
      if (/^v?\d+\.\d+/.test(version)) return { argv, version };
    }
    return null;
  })();
  return detected;
}

/** Every `${VAR...}` compose.yaml reads: cleared from the inherited environment so a developer's shell cannot change a test. */
async function composeVariables(): Promise<string[]> {
  const text = await Bun.file(COMPOSE_FILE).text();
  return [...new Set([...text.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1] as string))];
}

export class ComposeProject {
  private constructor(
    readonly cli: ComposeCli,
    readonly name: string,
    readonly env: Record<string, string | undefined>,
  ) {}

  static async create(cli: ComposeCli, name: string, variables: Record<string, string>): Promise<ComposeProject> {
    const env: Record<string, string | undefined> = {};
    for (const key of await composeVariables()) env[key] = undefined;
    env.COMPOSE_PROJECT_NAME = undefined;
    env.COMPOSE_FILE = undefined;
    return new ComposeProject(cli, name, { ...env, ...variables });
  }

  /** Runs `compose -p NAME -f compose.yaml ARGS`; throws with Compose's own message on failure. */
  async compose(args: string[], timeoutMs = 180_000): Promise<string> {
    const argv = [...this.cli.argv, "--project-name", this.name, "--file", COMPOSE_FILE, ...args];
    const out = await run(argv, { env: this.env, timeoutMs });
    if (out.exitCode !== 0) {
      throw new Error(`${argv.join(" ")} failed (${out.exitCode}):\n${out.stderr.trim()}\n${out.stdout.trim()}`);
    }
    return out.stdout;
  }

  /** Container ids of one service (or all), running or not. */
  async containers(service?: string): Promise<string[]> {
    const filters = ["--filter", `label=com.docker.compose.project=${this.name}`];
    if (service) filters.push("--filter", `label=com.docker.compose.service=${service}`);
    const out = await docker(["ps", "-a", "-q", "--no-trunc", ...filters]);
    return out.split("\n").filter(Boolean);
  }

  /** `down`, then removes anything left with the project's label (a failed `up` can leave some). */
  async destroy(): Promise<void> {
    await this.compose(["down", "--volumes", "--remove-orphans", "--timeout", "5"]).catch(() => undefined);
    const left = await this.containers().catch(() => []);
    if (left.length > 0) await run(["docker", "rm", "-f", "-v", ...left], { timeoutMs: 60_000 });
    await run(["docker", "network", "rm", `${this.name}_backend`], { timeoutMs: 30_000 });
  }
}
