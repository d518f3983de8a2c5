import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { runActionlint } from "../../lib/ci/actionlint";
import { checkWorkflow, formatFinding } from "../../lib/ci/workflow-rules";
import { parseWorkflow } from "../../lib/ci/workflows";
import { REPO_ROOT } from "../../lib/paths";

// The kind workflow cannot run here (no cluster); these checks are what can be proven offline.
const FILE = join(REPO_ROOT, ".github", "workflows", "kind.yml");
const text = await Bun.file(FILE).text();
const workflow = parse(text);
const steps: { name?: string; uses?: string; run?: string; with?: Record<string, string> }[] = workflow.jobs.kind.steps;
const scripts = steps.map((step) => step.run ?? "").join("\n");

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "timekit-kind-workflow-"));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

test("kind.yml passes actionlint and the project's workflow rules", async () => {
  expect(checkWorkflow(parseWorkflow(FILE, text)).map(formatFinding)).toEqual([]);
  const lint = await runActionlint(REPO_ROOT, ".github/workflows/kind.yml");
  expect(lint.output).not.toContain("kind.yml:");
  expect([lint.exitCode, lint.checked]).toEqual([0, 1]);
}, 60_000);

test("it runs by hand and on pull requests that touch the Kubernetes files", () => {
  expect(Object.keys(workflow.on).sort()).toEqual(["pull_request", "workflow_dispatch"]);
  expect(workflow.on.pull_request.paths).toEqual(expect.arrayContaining(["k8s/**", "charts/**"]));
  expect(workflow.permissions).toEqual({ contents: "read" });
  expect(workflow.jobs.kind["timeout-minutes"]).toBeGreaterThan(0);
});

test("it deploys through both targets of deploy.ts, checks end to end, and rolls back each way", () => {
  for (const fragment of [
    "bun deploy.ts --target=k8s",
    "bun deploy.ts rollback --target=k8s",
    "bun deploy.ts --target=helm",
    "bun deploy.ts rollback --target=helm",
    "kubectl -n timekit rollout undo deployment/service1",
    "helm rollback service1 1",
    "helm test service2",
    "bun tests/k8s/e2e.ts http://127.0.0.1:30080",
  ]) {
    expect(scripts).toContain(fragment);
  }
  // The render CLI is no longer how the workflow deploys.
  expect(scripts).not.toContain("lib/k8s/cli.ts");
  const kind = steps.find((step) => step.uses?.startsWith("helm/kind-action@"));
  expect(existsSync(join(REPO_ROOT, kind?.with?.config ?? "missing"))).toBe(true);
  expect(existsSync(join(REPO_ROOT, "tests", "k8s", "e2e.ts"))).toBe(true);
});

/** Every `bun deploy.ts --target=...` deploy line of the workflow, with its variables filled in. */
const deployLines = scripts
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => /^bun deploy\.ts --target=/.test(line))
  .map((line) =>
    line
      .replace(/"\$([A-Z]+)"/g, (_, name: string) => workflow.env[name] ?? `<unset ${name}>`)
      .replace(/"kind-\$CLUSTER"/g, `kind-${workflow.env.CLUSTER}`)
      .replace(/^bun deploy\.ts /, ""),
  );

test("the workflow's deploy.ts lines are accepted: each one passes --dry-run offline", async () => {
  expect(deployLines.length).toBe(4);
  const runs = deployLines.map(async (line) => {
    const args = line.split(/\s+/);
    const child = Bun.spawn(["bun", "deploy.ts", ...args, "--dry-run"], {
      cwd: REPO_ROOT,
      env: { ...Bun.env, TIMEKIT_STATE_DIR: scratch, REGISTRY: "" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { line, code, stderr, head: stdout.split("\n")[0] ?? "" };
  });
  for (const r of await Promise.all(runs)) {
    expect({ line: r.line, code: r.code, stderr: r.stderr }).toEqual({ line: r.line, code: 0, stderr: "" });
    expect(r.head).toMatch(/^# timekit (k8s|helm) dry run: namespace timekit(-helm)?, overlay kind, /);
    expect(r.line).not.toContain("<unset");
  }
}, 180_000);
