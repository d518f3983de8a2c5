import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { runActionlint } from "../../lib/ci/actionlint";
import { checkWorkflow, formatFinding } from "../../lib/ci/workflow-rules";
import { parseWorkflow } from "../../lib/ci/workflows";
import { REPO_ROOT } from "../../lib/k8s/paths";
import { type RenderInput, resolveInput } from "../../lib/k8s/render";

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

test("it deploys through both paths, checks end to end, and rolls back each way", () => {
  for (const fragment of [
    "render --target=k8s",
    "kubectl apply -f",
    "kubectl -n timekit rollout undo deployment/service1",
    "helm upgrade --install",
    "helm test service1",
    "helm test service2",
    "helm rollback service1 1",
    "bun tests/k8s/e2e.ts http://127.0.0.1:30080",
  ]) {
    expect(scripts).toContain(fragment);
  }
  const kind = steps.find((step) => step.uses?.startsWith("helm/kind-action@"));
  expect(existsSync(join(REPO_ROOT, kind?.with?.config ?? "missing"))).toBe(true);
  expect(existsSync(join(REPO_ROOT, "tests", "k8s", "e2e.ts"))).toBe(true);
});

test("the render inputs it writes are valid RenderInputs", async () => {
  const step = steps.find((s) => s.name?.startsWith("write the render inputs"));
  expect(step?.run).toBeDefined();
  const child = Bun.spawn(["bash", "-euo", "pipefail", "-c", step?.run ?? ""], {
    cwd: scratch,
    env: { ...Bun.env, ...workflow.env },
    stderr: "pipe",
  });
  expect(await child.exited).toBe(0);
  for (const name of ["raw-good", "raw-next", "helm-good", "helm-next"]) {
    const input = (await Bun.file(join(scratch, `${name}.json`)).json()) as RenderInput;
    expect(() => resolveInput(input)).not.toThrow();
    expect(input.overlay).toBe("kind");
  }
  const next = (await Bun.file(join(scratch, "raw-next.json")).json()) as RenderInput;
  expect([next.services.service1.tag, next.services.service2.tag]).toEqual([workflow.env.NEXT, workflow.env.GOOD]);
});
