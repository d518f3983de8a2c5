/** deploy.ts in-process: `main(argv, io)` with stdout and stderr captured and the exit code returned. */
import { main } from "../../lib/cli/main";
import type { Io } from "../../lib/io";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment every run starts from: this process's, without a registry or target preset. */
export function cliEnv(env: Record<string, string>): Record<string, string | undefined> {
  return { ...Bun.env, REGISTRY: "", TIMEKIT_TARGET: "", TIMEKIT_PROJECT: "", COMPOSE_PROJECT_NAME: "", ...env };
}

export async function deploy(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: cliEnv(env),
    tty: false,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}
