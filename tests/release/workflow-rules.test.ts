/** The local workflow checker: it passes the repository's workflows and catches each broken rule. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { checkWorkflow, pinProblem, strictShellProblem, untrustedExpressions } from "../../lib/ci/workflow-rules";
import { loadWorkflows, parseWorkflow } from "../../lib/ci/workflows";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const WORKFLOWS = join(REPO_ROOT, ".github", "workflows");

const CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2";

/** A workflow that follows every rule; each case below breaks one thing. */
const GOOD = `name: good
on: push
permissions:
  contents: read
defaults:
  run:
    shell: bash --noprofile --norc -euo pipefail {0}
concurrency:
  group: good-\${{ github.ref }}
  cancel-in-progress: true
jobs:
  build:
    runs-on: ubuntu-24.04
    timeout-minutes: 10
    permissions:
      contents: write
    steps:
      - uses: ${CHECKOUT}
      - uses: ./.github/actions/local
      - name: title through env
        env:
          TITLE: \${{ github.event.pull_request.title }}
        run: echo "$TITLE \${{ github.sha }}"
`;

function rulesBroken(yaml: string): string[] {
  return [...new Set(checkWorkflow(parseWorkflow("inline.yml", yaml)).map((f) => f.rule))].sort();
}

describe("checkWorkflow on small inline workflows", () => {
  test("a workflow that follows every rule has no findings", () => {
    expect(checkWorkflow(parseWorkflow("good.yml", GOOD))).toEqual([]);
  });

  const cases: Array<[name: string, yaml: string, rules: string[]]> = [
    ["unpinned action (tag)", GOOD.replace(CHECKOUT, "actions/checkout@v4"), ["pinned-actions"]],
    ["unpinned action (branch)", GOOD.replace(CHECKOUT, "actions/checkout@main"), ["pinned-actions"]],
    ["short SHA", GOOD.replace(CHECKOUT, "actions/checkout@11bd719 # v4.2.2"), ["pinned-actions"]],
    [
      "SHA without a version comment",
      GOOD.replace(CHECKOUT, "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"),
      ["pinned-actions"],
    ],
    [
      "SHA with a comment that names no version",
      GOOD.replace(CHECKOUT, "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # latest"),
      ["pinned-actions"],
    ],
    ["docker action by tag", GOOD.replace(CHECKOUT, "docker://alpine:3.20"), ["pinned-actions"]],
    ["missing permissions block", GOOD.replace("permissions:\n  contents: read\n", ""), ["read-only-permissions"]],
    [
      "write scope at the top level",
      GOOD.replace("permissions:\n  contents: read\n", "permissions:\n  contents: write\n"),
      ["read-only-permissions"],
    ],
    [
      "write-all at the top level",
      GOOD.replace("permissions:\n  contents: read\n", "permissions: write-all\n"),
      ["read-only-permissions"],
    ],
    ["job without timeout-minutes", GOOD.replace("    timeout-minutes: 10\n", ""), ["job-timeouts"]],
    [
      "no concurrency anywhere",
      GOOD.replace(`concurrency:\n  group: good-$\{{ github.ref }}\n  cancel-in-progress: true\n`, ""),
      ["concurrency"],
    ],
    [
      "event payload interpolated in run",
      GOOD.replace('run: echo "$TITLE', `run: echo "$\{{ github.event.pull_request.title }}`),
      ["no-untrusted-interpolation"],
    ],
    [
      "head ref interpolated in run",
      GOOD.replace('run: echo "$TITLE', `run: git checkout $\{{ github.head_ref }} && echo "$TITLE`),
      ["no-untrusted-interpolation"],
    ],
    [
      "dispatch input interpolated in a block run",
      GOOD.replace(
        `run: echo "$TITLE $\{{ github.sha }}"`,
        `run: |\n          echo start\n          deploy "$\{{ inputs.version }}"`,
      ),
      ["no-untrusted-interpolation"],
    ],
    [
      "everything wrong at once",
      `on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n      - run: echo $\{{ github.event.issue.title }}\n`,
      [
        "concurrency",
        "job-timeouts",
        "no-untrusted-interpolation",
        "pinned-actions",
        "read-only-permissions",
        "strict-shell",
      ],
    ],
    ["not YAML", "on: [push\njobs: {", ["yaml-syntax"]],
    [
      "GitHub's default shell (bash -e, no pipefail, no -u)",
      GOOD.replace("defaults:\n  run:\n    shell: bash --noprofile --norc -euo pipefail {0}\n", ""),
      ["strict-shell"],
    ],
    [
      "shell: bash (-eo pipefail, no -u)",
      GOOD.replace("shell: bash --noprofile --norc -euo pipefail {0}", "shell: bash"),
      ["strict-shell"],
    ],
    [
      "a step overriding the strict default with sh",
      GOOD.replace("      - name: title through env\n", "      - name: title through env\n        shell: sh\n"),
      ["strict-shell"],
    ],
  ];
  test.each(cases)("%s → %p", (_name, yaml, rules) => {
    expect(rulesBroken(yaml)).toEqual(rules);
  });

  test("a job calling a reusable workflow needs a pin but cannot take a timeout", () => {
    const caller = `name: caller
on: push
permissions: read-all
concurrency: caller
jobs:
  call:
    uses: org/repo/.github/workflows/build.yml@0123456789abcdef0123456789abcdef01234567 # v1.0.0
  unpinned:
    uses: org/repo/.github/workflows/build.yml@main
`;
    const findings = checkWorkflow(parseWorkflow("caller.yml", caller));
    expect(findings.map((f) => [f.rule, f.line])).toEqual([["pinned-actions", 9]]);
  });

  test("github-script's script: counts as code too", () => {
    const yaml = GOOD.replace(
      "      - uses: ./.github/actions/local\n",
      `      - uses: actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea # v7.0.1
        with:
          script: console.log("\${{ github.event.comment.body }}")
`,
    );
    expect(rulesBroken(yaml)).toEqual(["no-untrusted-interpolation"]);
  });

  test("findings point at the offending line", () => {
    const [finding] = checkWorkflow(parseWorkflow("x.yml", GOOD.replace(CHECKOUT, "actions/checkout@v4")));
    expect(finding).toMatchObject({ file: "x.yml", line: 18, rule: "pinned-actions" });
    expect(finding?.message).toContain("actions/checkout@v4 is not pinned by a full commit SHA");
  });
});

describe("rule helpers", () => {
  const shells: Array<[shell: string | null, script: string, strict: boolean]> = [
    ["bash --noprofile --norc -euo pipefail {0}", "echo", true],
    ["bash -e -u -o pipefail {0}", "echo", true],
    ["/usr/bin/bash -eu -o pipefail {0}", "echo", true],
    ["bash --noprofile --norc -eo pipefail {0}", "echo", false],
    ["bash -euo {0}", "echo", false],
    [null, "echo", false],
    [null, "set -euo pipefail\necho", true],
    [null, "# why\n\nset -o pipefail -eu\necho", true],
    ["bash", "echo\nset -euo pipefail", false],
    ["sh", "set -euo pipefail", false],
    ["pwsh -command {0}", "Write-Host", false],
  ];
  test.each(shells)("strictShellProblem(%p, %p) strict=%p", (shell, script, strict) => {
    expect(strictShellProblem(shell, script) === null).toBe(strict);
  });

  const pins: Array<[uses: string, comment: string | null, ok: boolean]> = [
    ["actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", " v4.2.2", true],
    ["actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", "4.2.2", true],
    ["owner/repo/sub/dir@11bd71901bbe5b1630ceea73d27597364c9af683", " v1", true],
    ["actions/checkout@11BD71901BBE5B1630CEEA73D27597364C9AF683", " v4.2.2", false],
    ["actions/checkout@v4.2.2", " v4.2.2", false],
    ["./local/action", null, true],
    [`docker://alpine@sha256:${"a".repeat(64)}`, null, true],
    ["docker://alpine:3", null, false],
  ];
  test.each(pins)("pinProblem(%p, %p) ok=%p", (uses, comment, ok) => {
    expect(pinProblem(uses, comment) === null).toBe(ok);
  });

  const expressions: Array<[script: string, untrusted: string[]]> = [
    ['echo "$TITLE"', []],
    [`echo $\{{ github.sha }} $\{{ runner.temp }} $\{{ matrix.service }}`, []],
    [`echo $\{{ github.event_name }}`, []],
    [`echo $\{{ github.event.pull_request.title }}`, [`$\{{ github.event.pull_request.title }}`]],
    [`echo $\{{github.head_ref}}`, [`$\{{github.head_ref}}`]],
    [`echo $\{{ inputs.version_service1 }}`, [`$\{{ inputs.version_service1 }}`]],
    [`echo $\{{ github.event.inputs.x }}`, [`$\{{ github.event.inputs.x }}`]],
    [`echo $\{{ github['event']['issue']['title'] }}`, [`$\{{ github['event']['issue']['title'] }}`]],
    [`echo $\{{ steps.inputs.outputs.x }}`, []],
  ];
  test.each(expressions)("untrustedExpressions(%p)", (script, untrusted) => {
    expect(untrustedExpressions(script)).toEqual(untrusted);
  });
});

describe("the repository's workflows", () => {
  test("exist and pass every rule (kind.yml included when present)", async () => {
    const workflows = await loadWorkflows(WORKFLOWS);
    const names = workflows.map((w) => w.file.slice(WORKFLOWS.length + 1));
    expect(names).toEqual(expect.arrayContaining(["ci.yml", "release.yml", "deploy.yml"]));
    expect(workflows.flatMap(checkWorkflow)).toEqual([]);
  });

  test("install the Bun version package.json pins", async () => {
    const packageManager: string = (await Bun.file(join(REPO_ROOT, "package.json")).json()).packageManager;
    const pinned = packageManager.replace(/^bun@/, "");
    for (const name of ["ci.yml", "release.yml", "deploy.yml"]) {
      const text = await Bun.file(join(WORKFLOWS, name)).text();
      const versions = [...text.matchAll(/bun-version:\s*"?([^"\s]+)"?/g)].map((m) => m[1]);
      expect(versions.length).toBeGreaterThan(0);
      expect(new Set(versions)).toEqual(new Set([pinned]));
    }
  });
});
