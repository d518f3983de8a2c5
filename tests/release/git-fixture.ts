/** Throwaway git repositories shaped like timekit (two services, shared runtime, root build files). */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { git } from "../../lib/release/git";

export interface FixtureOptions {
  service1Version?: string;
  service2Version?: string;
}

export interface GitFixture {
  dir: string;
  /** Writes the files and commits them with `message`; returns the new commit's hash. */
  commit(message: string, files: Record<string, string>): Promise<string>;
  git(...args: string[]): Promise<string>;
  cleanup(): Promise<void>;
}

const packageJson = (name: string, version: string) =>
  `${JSON.stringify({ name: `@timekit/${name}`, version, private: true, type: "module" }, null, 2)}\n`;

const lockfile = (v1: string, v2: string) => `{
  "lockfileVersion": 1,
  "workspaces": {
    "service1": {
      "name": "@timekit/service1",
      "version": "${v1}",
    },
    "service2": {
      "name": "@timekit/service2",
      "version": "${v2}",
    },
  },
}
`;

export async function createGitFixture(options: FixtureOptions = {}): Promise<GitFixture> {
  const dir = await mkdtemp(join(tmpdir(), "timekit-release-"));
  const run = (...args: string[]) => git(dir, args);
  await run("init", "--quiet", "--initial-branch=main");
  // Local identity and no signing: the fixture must not depend on the machine's git config.
  await run("config", "user.name", "Release Test");
  await run("config", "user.email", "release-test@example.invalid");
  await run("config", "commit.gpgsign", "false");
  await run("config", "tag.gpgsign", "false");

  const commit = async (message: string, files: Record<string, string>) => {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    await run("add", "--all");
    await run("commit", "--quiet", "--allow-empty", "--message", message);
    return (await run("rev-parse", "HEAD")).trim();
  };

  const v1 = options.service1Version ?? "1.0.0";
  const v2 = options.service2Version ?? "1.0.0";
  await commit("chore: initial layout", {
    "service1/package.json": packageJson("service1", v1),
    "service1/src/app.ts": "export const app = 1;\n",
    "service1/src/contract.ts": "export const TIMESTAMP_PATH = '/v1/timestamp';\n",
    "service2/package.json": packageJson("service2", v2),
    "service2/src/app.ts": "export const app = 2;\n",
    "packages/runtime/src/index.ts": "export const runtime = 1;\n",
    "package.json": "{}\n",
    "bun.lock": lockfile(v1, v2),
    "README.md": "# fixture\n",
  });

  return { dir, commit, git: run, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
