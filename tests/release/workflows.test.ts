/** What the pipeline promises, read from the workflow files GitHub will run. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parse } from "yaml";

const WORKFLOWS = join(import.meta.dir, "..", "..", ".github", "workflows");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
}
interface Job {
  name?: string;
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> };
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}

async function workflow(name: string): Promise<Workflow> {
  return parse(await Bun.file(join(WORKFLOWS, name)).text());
}

const runs = (job: Job | undefined) => (job?.steps ?? []).flatMap((s) => (s.run ? [s.run] : []));

/** Index of the first step whose run script contains `needle`; -1 when none does. */
function stepIndex(job: Job | undefined, needle: string): number {
  return (job?.steps ?? []).findIndex((s) => s.run?.includes(needle));
}

describe("ci.yml", () => {
  test("runs on pull requests and pushes", async () => {
    expect(Object.keys((await workflow("ci.yml")).on).sort()).toEqual(["pull_request", "push"]);
  });

  test("ci-gate is one fixed-name job that waits for every other job, even after failures", async () => {
    const { jobs } = await workflow("ci.yml");
    const gate = jobs["ci-gate"];
    expect(gate?.name).toBe("ci-gate");
    expect(gate?.if).toBe("always()");
    const others = Object.keys(jobs).filter((id) => id !== "ci-gate");
    expect([gate?.needs].flat().sort()).toEqual(others.sort());
    // Green with no changed service means the skipped Docker job must be accepted, and only then.
    const script = runs(gate).join("\n");
    expect(script).toContain("expected=skipped");
    expect(script).toContain('if [ "$ANY_SERVICE" = true ]; then expected=success; fi');
  });

  test("the Docker suite runs per changed service, each with its own build cache", async () => {
    const { jobs } = await workflow("ci.yml");
    const docker = jobs.docker;
    expect(docker?.needs).toBe("changes");
    expect(docker?.if).toBe("needs.changes.outputs.any == 'true'");
    expect(docker?.strategy?.matrix?.service).toBe(`$\{{ fromJSON(needs.changes.outputs.services) }}`);
    expect(docker?.env?.TIMEKIT_BUILD_CACHE_FROM).toContain(`scope=image-$\{{ matrix.service }}`);
    expect(docker?.env?.TIMEKIT_BUILD_CACHE_TO).toContain(`scope=image-$\{{ matrix.service }}`);
    expect(runs(docker)).toContain("bun test tests/docker");
  });

  test("check and unit tests run on every change, with the workflow checks", async () => {
    const check = (await workflow("ci.yml")).jobs.check;
    expect(check?.if).toBeUndefined();
    expect(runs(check)).toEqual(
      expect.arrayContaining([
        "bun run check",
        "bun scripts/check-workflows.ts",
        "bun test --path-ignore-patterns='tests/docker/**'",
      ]),
    );
  });
});

describe("release.yml", () => {
  test("runs on pushes to main (and by hand), never on a tag", async () => {
    const { on } = await workflow("release.yml");
    expect(on.push).toEqual({ branches: ["main"] });
    expect(Object.keys(on).sort()).toEqual(["push", "workflow_dispatch"]);
  });

  test("per pending service: version → build → test → publish → integrate → tag → promote, all through deploy.ts", async () => {
    const { jobs } = await workflow("release.yml");
    const release = jobs.release;
    expect(release?.strategy?.matrix?.service).toBe(`$\{{ fromJSON(needs.plan.outputs.services) }}`);
    const order = [
      'bun deploy.ts version --service="$SERVICE" --write',
      "bun deploy.ts build",
      "bun test tests/docker",
      "bun deploy.ts publish",
      "bun deploy.ts integrate",
      "--tag --json",
      'git push origin "refs/tags/$TAG"',
      "bun deploy.ts promote",
    ].map((needle) => stepIndex(release, needle));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(runs(jobs.plan)).toContain("bun scripts/changed-services.ts --pending-release --github-output");
  });

  test("write scopes exist only on the release job", async () => {
    const { permissions, jobs } = await workflow("release.yml");
    expect(permissions).toEqual({ contents: "read" });
    expect(jobs.release?.permissions).toEqual({ contents: "write", packages: "write" });
    expect(jobs.plan?.permissions).toBeUndefined();
  });
});

describe("deploy.yml", () => {
  test("takes versions and params as dispatch inputs and hands them to deploy.ts through env", async () => {
    const { on, jobs } = await workflow("deploy.yml");
    const inputs = (on.workflow_dispatch as { inputs: Record<string, unknown> }).inputs;
    expect(Object.keys(inputs).sort()).toEqual(["additional_param_1", "version_service1", "version_service2"]);
    const deploy = (jobs.deploy?.steps ?? []).find((s) => s.run?.includes("bun deploy.ts"));
    expect(deploy?.env).toEqual({
      VERSION_SERVICE1: `$\{{ inputs.version_service1 }}`,
      VERSION_SERVICE2: `$\{{ inputs.version_service2 }}`,
      ADDITIONAL_PARAM_1: `$\{{ inputs.additional_param_1 }}`,
    });
    for (const flag of [
      '--version_service1="$VERSION_SERVICE1"',
      '--version_service2="$VERSION_SERVICE2"',
      '--additional_param_1="$ADDITIONAL_PARAM_1"',
    ]) {
      expect(deploy?.run).toContain(flag);
    }
  });
});
