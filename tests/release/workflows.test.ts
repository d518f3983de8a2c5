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
  with?: Record<string, unknown>;
}
interface Job {
  name?: string;
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  strategy?: { matrix?: Record<string, unknown> };
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  concurrency?: unknown;
  env?: Record<string, string>;
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

const WORKFLOW_NAMES = ["ci.yml", "release.yml", "deploy.yml", "kind.yml"];

describe("every workflow", () => {
  /** Each at its current major, whose action.yml says `using: node24` (checked in each action's repository). */
  const PINS: Record<string, string> = {
    "actions/checkout": "3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
    "oven-sh/setup-bun": "0c5077e51419868618aeaa5fe8019c62421857d6 # v2.2.0",
    "docker/setup-buildx-action": "37fe631027851001ddb9b187196cc803df7f5f0e # v4.3.0",
    "docker/login-action": "4907a6ddec9925e35a0a9e82d7399ccc52663121 # v4.1.0",
    "crazy-max/ghaction-github-runtime": "04d248b84655b509d8c44dc1d6f990c879747487 # v4.0.0",
    "actions/upload-artifact": "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0",
    "actions/download-artifact": "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1",
    // A composite action whose one step is actions/attest@59d89421… (v4.1.0), `using: node24`.
    "actions/attest-build-provenance": "a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32 # v4.1.0",
    "azure/setup-helm": "9bc31f4ebc9c6b171d7bfbaa5d006ae7abdb4310 # v5.0.1",
    "helm/kind-action": "ef37e7f390d99f746eb8b610417061a60e82a6cc # v1.14.0",
  };

  test.each(WORKFLOW_NAMES)("%s pins only the Node 24 releases listed here", async (name) => {
    const text = await Bun.file(join(WORKFLOWS, name)).text();
    const uses = [...text.matchAll(/uses: ([\w./-]+)@(\S+ # \S+)/g)];
    expect(uses.length).toBeGreaterThan(0);
    for (const [, action, pin] of uses) expect(`${action}@${pin}`).toBe(`${action}@${PINS[action as string]}`);
  });

  test.each(WORKFLOW_NAMES)(
    "%s installs the suites' tools in every job that runs bun test, before it",
    async (name) => {
      const { jobs } = await workflow(name);
      const testing = Object.entries(jobs).filter(([, job]) => stepIndex(job, "bun test") >= 0);
      for (const [, job] of testing) {
        const install = stepIndex(job, "bun scripts/ci/install-tools.ts");
        expect(install).toBeGreaterThanOrEqual(0);
        expect(install).toBeLessThan(stepIndex(job, "bun test"));
      }
    },
  );
});

describe("ci.yml", () => {
  test("runs on pull requests, pushes to main and the merge queue", async () => {
    const { on } = await workflow("ci.yml");
    expect(Object.keys(on).sort()).toEqual(["merge_group", "pull_request", "push"]);
    expect(on.push).toEqual({ branches: ["main"] });
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

  test("the Docker suite runs per changed service; every build writes its own service's cache scope", async () => {
    const { jobs } = await workflow("ci.yml");
    const docker = jobs.docker;
    expect(docker?.needs).toBe("changes");
    expect(docker?.if).toBe("needs.changes.outputs.any == 'true'");
    expect(docker?.strategy?.matrix?.service).toBe(`$\{{ fromJSON(needs.changes.outputs.services) }}`);
    expect(runs(docker)).toContain("bun test tests/docker");
    // The suite builds both services: {service} gives each build its own scope (lib/images/build.ts).
    expect(docker?.env?.TIMEKIT_BUILD_CACHE_FROM).toBe("type=gha,scope=image-{service}");
    expect(docker?.env?.TIMEKIT_BUILD_CACHE_TO).toBe("type=gha,mode=max,scope=image-{service}");
    const build = docker?.steps?.find((s) => s.run?.includes("bun deploy.ts build"));
    expect(build?.run).toBe('bun deploy.ts build --service="$SERVICE"');
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
  test("runs after CI completes on main, or by hand with explicit inputs; never on push or a tag", async () => {
    const { on } = await workflow("release.yml");
    expect(Object.keys(on).sort()).toEqual(["workflow_dispatch", "workflow_run"]);
    expect(on.workflow_run).toEqual({ workflows: ["ci"], types: ["completed"], branches: ["main"] });
    const inputs = (on.workflow_dispatch as { inputs: Record<string, Record<string, unknown>> }).inputs;
    expect(inputs.services).toMatchObject({
      required: true,
      type: "choice",
      options: ["both", "service1", "service2"],
    });
    expect(inputs.services?.default).toBeUndefined();
    expect(inputs.bootstrap).toMatchObject({ required: true, type: "boolean", default: false });
  });

  test("plans only for a push to main whose CI passed, or a manual run from main, at the commit CI tested", async () => {
    const { jobs } = await workflow("release.yml");
    const gate = (jobs.plan?.if ?? "").replace(/\s+/g, " ");
    for (const clause of [
      "github.event.workflow_run.conclusion == 'success'",
      "github.event.workflow_run.event == 'push'",
      "github.event.workflow_run.head_branch == 'main'",
      "(github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main')",
    ]) {
      expect(gate).toContain(clause);
    }
    const checkout = (job: Job | undefined) => job?.steps?.find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout(jobs.plan)?.with?.ref).toBe(`$\{{ github.event.workflow_run.head_sha || github.sha }}`);
    expect(checkout(jobs.release)?.with?.ref).toBe(`$\{{ needs.plan.outputs.commit }}`);
    expect(checkout(jobs.promote)?.with?.ref).toBe(`$\{{ needs.plan.outputs.commit }}`);
  });

  test("per pending service: version → build → test the candidate → integrate → publish, nothing published before", async () => {
    const { jobs } = await workflow("release.yml");
    const release = jobs.release;
    expect(release?.strategy?.matrix?.service).toBe(`$\{{ fromJSON(needs.plan.outputs.services) }}`);
    const order = [
      'bun deploy.ts version --service="$SERVICE" --json',
      "bun deploy.ts build",
      "bun test tests/docker",
      "bun deploy.ts integrate",
      "bun deploy.ts publish",
    ].map((needle) => stepIndex(release, needle));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(runs(jobs.plan).join("\n")).toContain("bun scripts/changed-services.ts --pending-release");
    // The Docker suite tests the candidate image itself, not images it builds.
    const test_ = release?.steps?.[stepIndex(release, "bun test tests/docker")];
    expect(test_?.env?.TIMEKIT_CANDIDATE_IMAGE).toBe(
      `timekit/$\{{ matrix.service }}:$\{{ steps.version.outputs.version }}`,
    );
    // Provenance of what was published, then the archive kept for promote.
    const attest = (release?.steps ?? []).findIndex((s) => s.uses?.startsWith("actions/attest-build-provenance@"));
    const upload = (release?.steps ?? []).findIndex((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(attest).toBeGreaterThan(stepIndex(release, "bun deploy.ts publish"));
    expect(upload).toBeGreaterThan(attest);
  });

  test("promote waits for every release leg, then: known-good → GitHub Release (the tag) → the record on main", async () => {
    const { jobs } = await workflow("release.yml");
    const promote = jobs.promote;
    expect(promote?.needs).toEqual(["plan", "release"]);
    // No status function: GitHub's implicit success() needs every leg of release to pass.
    expect(promote?.if).toBe("needs.plan.outputs.any == 'true'");
    const order = [
      "bun deploy.ts promote",
      'gh release create "$TAG" --target "$COMMIT"',
      'bun deploy.ts version --service="$SERVICE" --sync --json',
      "git push origin HEAD:refs/heads/main",
    ].map((needle) => stepIndex(promote, needle));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(runs(promote).join("\n")).not.toContain('git push origin "refs/tags');
  });

  test("the version step leaves the checkout clean (no --write) and fails on a report without a release field", async () => {
    const version = (await workflow("release.yml")).jobs.release?.steps?.find((s) => s.name === "version");
    expect(version?.run).not.toContain("--write");
    expect(version?.run).toContain('error("no boolean .release")');
  });

  test("the first release integrates against the other service's source when bootstrap is set", async () => {
    const { jobs } = await workflow("release.yml");
    expect(jobs.release?.env?.BOOTSTRAP).toBe(`$\{{ inputs.bootstrap == true }}`);
    const integrate = jobs.release?.steps?.find((s) => s.run?.includes("bun deploy.ts integrate"));
    expect(integrate?.run).toContain('elif [ "$BOOTSTRAP" = true ]; then\n  with=dev');
    // Both services pending: integrated with each other's candidates.
    expect(integrate?.run).toContain("with=candidate");
    expect(integrate?.run).toContain('--other_version="$with"');
  });

  test("one concurrency group per service, never cancelled; each service's build writes its own cache", async () => {
    const { concurrency, jobs } = await workflow("release.yml");
    expect(concurrency).toBeUndefined();
    expect(jobs.release?.concurrency).toEqual({ group: `release-$\{{ matrix.service }}`, "cancel-in-progress": false });
    expect(jobs.promote?.concurrency).toEqual({
      group: `release-promote-$\{{ matrix.service }}`,
      "cancel-in-progress": false,
    });
    expect(jobs.release?.env?.TIMEKIT_BUILD_CACHE_TO).toBe("type=gha,mode=max,scope=image-{service}");
  });

  test("a re-run can upload the archive again (overwrite)", async () => {
    const upload = (await workflow("release.yml")).jobs.release?.steps?.find((s) =>
      s.uses?.startsWith("actions/upload-artifact@"),
    );
    expect(upload?.with).toMatchObject({ overwrite: true, "if-no-files-found": "error" });
  });

  test("write scopes only where needed: packages and attestations to publish, contents to release", async () => {
    const { permissions, jobs } = await workflow("release.yml");
    expect(permissions).toEqual({ contents: "read" });
    expect(jobs.release?.permissions).toEqual({
      contents: "read",
      packages: "write",
      "id-token": "write",
      attestations: "write",
    });
    expect(jobs.promote?.permissions).toEqual({ contents: "write", packages: "write" });
    expect(jobs.plan?.permissions).toBeUndefined();
  });

  test("publish and promote need the signing key secret and say so when it is missing", async () => {
    const { jobs } = await workflow("release.yml");
    for (const [job, needle] of [
      [jobs.release, "bun deploy.ts publish"],
      [jobs.promote, "bun deploy.ts promote"],
    ] as const) {
      const step = job?.steps?.[stepIndex(job, needle)];
      expect(step?.env?.TIMEKIT_SIGNING_KEY).toBe(`$\{{ secrets.TIMEKIT_SIGNING_KEY }}`);
      expect(step?.run).toContain(': "${TIMEKIT_SIGNING_KEY:?set the repository secret TIMEKIT_SIGNING_KEY');
    }
  });
});

describe("kind.yml", () => {
  test("the Calico manifest is pinned by version and checked against its SHA-256 before it is applied", async () => {
    const { env, jobs } = await workflow("kind.yml");
    expect(env?.CALICO).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(env?.CALICO_SHA256).toMatch(/^[0-9a-f]{64}$/);
    const script = runs(jobs.kind).find((run) => run.includes("calico")) ?? "";
    const check = script.indexOf('echo "$CALICO_SHA256  $manifest" | sha256sum --check --strict');
    expect(check).toBeGreaterThan(0);
    expect(script.indexOf('kubectl apply -f "$manifest"')).toBeGreaterThan(check);
    expect(script).not.toMatch(/kubectl apply -f "?https?:/);
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
