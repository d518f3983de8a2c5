/**
 * The events the parity test replays, one per workflow, with payloads shaped like GitHub's:
 * ci.yml on a pull request, release.yml after CI passed on main for a commit holding a
 * `fix(service2)` change, deploy.yml dispatched by hand, kind.yml on a pull request.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventSpec } from "./runner";

export const WORKFLOWS = ["ci.yml", "release.yml", "deploy.yml", "kind.yml"] as const;
export type WorkflowName = (typeof WORKFLOWS)[number];

function git(args: string[], cwd: string): string {
  const result = Bun.spawnSync(["git", ...args], {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      ...Bun.env,
      GIT_AUTHOR_NAME: "parity",
      GIT_AUTHOR_EMAIL: "parity@example.invalid",
      GIT_COMMITTER_NAME: "parity",
      GIT_COMMITTER_EMAIL: "parity@example.invalid",
    },
  });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr.toString().trim()}`);
  return result.stdout.toString().trim();
}

/**
 * A clone of `repo`'s HEAD, released (both services tagged at their committed versions), plus
 * one commit, `fix(service2): …`, touching service2: the release workflow has exactly service2
 * to release, whatever the project's own history holds.
 */
export function sourceWithRelease(repo: string, dir = mkdtempSync(join(tmpdir(), "timekit-parity-source-"))): string {
  const source = join(dir, "source");
  git(["clone", "--quiet", repo, source], dir);
  for (const service of ["service1", "service2"]) {
    const { version } = JSON.parse(readFileSync(join(source, service, "package.json"), "utf8")) as { version: string };
    git(["tag", "--force", "--annotate", `${service}-v${version}`, "--message", `${service} ${version}`], source);
  }
  const readme = join(source, "service2", "README.md");
  const main = join(source, "service2", "src", "main.ts");
  const target = Bun.file(readme).size > 0 ? readme : main;
  writeFileSync(target, `${readFileSync(target, "utf8")}\n`);
  git(["commit", "--quiet", "--all", "--message", "fix(service2): a change for the parity test to release"], source);
  // The workflows fetch and push main: the source's HEAD is main, whatever this checkout's branch
  // (`checkout -B` also works when the clone already has main checked out, as CI's clone of main does).
  git(["checkout", "--quiet", "-B", "main", "HEAD"], source);
  return source;
}

export function eventFor(workflow: WorkflowName, source: string): EventSpec {
  const head = git(["rev-parse", "HEAD"], source);
  const base = git(["rev-parse", "HEAD~1"], source);
  switch (workflow) {
    case "ci.yml":
    case "kind.yml":
      return {
        name: "pull_request",
        ref: "refs/pull/42/merge",
        payload: {
          number: 42,
          pull_request: { number: 42, base: { sha: base, ref: "main" }, head: { sha: head, ref: "feature" } },
        },
      };
    case "release.yml":
      return {
        name: "workflow_run",
        ref: "refs/heads/main",
        payload: {
          action: "completed",
          workflow_run: {
            name: "ci",
            event: "push",
            conclusion: "success",
            head_branch: "main",
            head_sha: head,
          },
        },
      };
    case "deploy.yml":
      return {
        name: "workflow_dispatch",
        ref: "refs/heads/main",
        payload: { inputs: { version_service1: "1.4.0", version_service2: "dev", additional_param_1: "2" } },
        inputs: { version_service1: "1.4.0", version_service2: "dev", additional_param_1: "2" },
      };
  }
}
