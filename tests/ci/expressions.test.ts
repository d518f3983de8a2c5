/** The parity test's pieces that need no process: expressions, command files, shells, scripts. */
import { describe, expect, test } from "bun:test";
import { externalCommands, interception, scriptCommands } from "../../scripts/ci/parity/commands";
import { condition, evaluate, interpolate, outputReads } from "../../scripts/ci/parity/expressions";
import { parseCommandFile, shellArgv } from "../../scripts/ci/parity/runner";

const REPO_ROOT = `${import.meta.dir}/../..`;

const contexts = {
  github: { event_name: "pull_request", ref: "refs/pull/3/merge", event: { pull_request: { number: 3 } } },
  needs: { changes: { result: "success", outputs: { services: '["service1","service2"]', any: "true" } } },
  matrix: { service: "service2" },
  inputs: {},
};

describe("expressions (GitHub's evaluator)", () => {
  test.each([
    ["github.event.pull_request.number || github.ref", 3],
    ["github.event.merge_group.base_sha || 'none'", "none"],
    ["github.event_name == 'PULL_REQUEST'", true],
    ["fromJSON(needs.changes.outputs.services)[1]", "service2"],
    ["inputs.bootstrap == true", false],
  ])("%s → %p", (expression, value) => {
    expect(evaluate(expression, contexts)).toEqual(value);
  });

  test("a value that is one expression keeps its type; anything else becomes a string", () => {
    expect(interpolate(`$\{{ fromJSON(needs.changes.outputs.services) }}`, contexts)).toEqual(["service1", "service2"]);
    expect(interpolate(`scope=image-$\{{ matrix.service }}`, contexts)).toBe("scope=image-service2");
    expect(interpolate({ a: [`x-$\{{ matrix.service }}`] }, contexts)).toEqual({ a: ["x-service2"] });
  });

  test("an if: without a status function means success() && (…)", () => {
    expect(condition("needs.changes.outputs.any == 'true'", contexts, { failed: false })).toBe(true);
    expect(condition("needs.changes.outputs.any == 'true'", contexts, { failed: true })).toBe(false);
    expect(condition(`$\{{ always() }}`, contexts, { failed: true })).toBe(true);
    expect(condition("failure()", contexts, { failed: false })).toBe(false);
    expect(condition(undefined, contexts, { failed: true })).toBe(false);
  });

  test("a syntax error names the expression", () => {
    expect(() => evaluate("github.ref ==", contexts)).toThrow(`cannot evaluate $\{{ github.ref == }}`);
  });

  test("outputReads finds every steps/needs output an expression reads", () => {
    expect(
      outputReads({
        a: `$\{{ steps.version.outputs.tag }}`,
        b: `x $\{{ needs.plan.outputs.any == 'true' }}`,
        c: "plain",
      }),
    ).toEqual([
      { context: "steps", id: "version", output: "tag" },
      { context: "needs", id: "plan", output: "any" },
    ]);
  });
});

describe("command files and shells", () => {
  test("GITHUB_OUTPUT lines: name=value and name<<DELIMITER blocks", () => {
    expect(parseCommandFile("a=1\nb=x=y\n\nnotes<<EOF\nline 1\nline 2\nEOF\nc=\n")).toEqual({
      a: "1",
      b: "x=y",
      notes: "line 1\nline 2",
      c: "",
    });
    expect(() => parseCommandFile("just text\n")).toThrow('malformed line "just text"');
    expect(() => parseCommandFile("x<<END\nno end\n")).toThrow("no closing END for x");
  });

  test.each([
    [undefined, ["bash", "-e", "/s.sh"]],
    ["bash", ["bash", "--noprofile", "--norc", "-eo", "pipefail", "/s.sh"]],
    ["bash --noprofile --norc -euo pipefail {0}", ["bash", "--noprofile", "--norc", "-euo", "pipefail", "/s.sh"]],
    ["sh", ["sh", "-e", "/s.sh"]],
  ])("shell %p runs as %p", (shell, argv) => {
    expect(shellArgv(shell, "/s.sh")).toEqual(argv);
  });

  test("a custom shell without {0} is refused", () => {
    expect(() => shellArgv("python", "/s.sh")).toThrow('shell "python" is not bash, sh or a command with {0}');
  });
});

describe("scriptCommands (mvdan/sh's parser)", () => {
  test("finds commands in functions, loops, substitutions and here-strings, not builtins or own functions", () => {
    const parsed = scriptCommands(
      [
        'image() { kubectl -n "$1" get deployment; }',
        'for s in a b; do docker build --tag "t/$s" .; done',
        'services="$(jq -c --arg only "$ONLY" \'.services | map(select(. == $only))\' <<<"$report")"',
        'case "$(image x)" in a*) ;; *) echo no; exit 1 ;; esac',
        `other=(); other=(--other_version=dev); bun deploy.ts integrate "$\{other[@]}"`,
        '"$wrk" -t1 http://127.0.0.1:1',
        `echo "R=$\{GITHUB_REPOSITORY_OWNER,,}" >> "$GITHUB_ENV"`,
      ].join("\n"),
    );
    expect(externalCommands(parsed).sort()).toEqual(["bun", "docker", "jq", "kubectl"]);
    expect(parsed.commands.find((c) => c.name === "bun")?.args).toEqual(["deploy.ts", "integrate", `"$\{other[@]}"`]);
  });

  test("a script that does not parse is an error naming the place", () => {
    expect(() => scriptCommands("if then")).toThrow('cannot parse the script: run:1:1: "if" must be followed');
  });
});

describe("interception (what runs resolve-only)", () => {
  test("bun test needs the tools its selected files declare", () => {
    const result = interception(["bun", "test", "tests/reliability/steady-load.test.ts"], REPO_ROOT);
    expect(Object.fromEntries(result?.needs ?? [])).toEqual({
      wrk: ["tests/reliability/steady-load.test.ts"],
      bun: ["bun test"],
    });
    expect(() => interception(["bun", "test", "tests/dockr"], REPO_ROOT)).toThrow(
      "bun test tests/dockr selects no test file",
    );
  });

  test("deploy.ts subcommands other than version, git push and package scripts; everything else runs", () => {
    expect(interception(["bun", "deploy.ts", "version", "--service=service1"], REPO_ROOT)).toBeNull();
    expect(interception(["bun", "install", "--frozen-lockfile"], REPO_ROOT)).toBeNull();
    expect(interception(["bun", "run", "scripts/check-workflows.ts"], REPO_ROOT)).toBeNull();
    expect(interception(["git", "tag", "x"], REPO_ROOT)).toBeNull();
    expect([...(interception(["git", "push", "origin", "x"], REPO_ROOT)?.needs.keys() ?? [])]).toEqual(["git"]);
    expect([...(interception(["bun", "run", "check"], REPO_ROOT)?.needs.keys() ?? [])].sort()).toEqual([
      "biome",
      "tsc",
    ]);
    const publish = interception(
      ["bun", "deploy.ts", "publish", "--service=service2", "--version=1.2.3", "--archive_dir=/tmp/a", "--json"],
      REPO_ROOT,
    );
    expect([...(publish?.needs.keys() ?? [])].sort()).toEqual(["bun", "docker", "git", "skopeo"]);
    expect(publish?.writes).toEqual([
      "/tmp/a/service2-1.2.3.tar.gz",
      "/tmp/a/service2-1.2.3.tar.gz.sha256",
      "/tmp/a/service2-1.2.3.cdx.json",
      "/tmp/a/service2-1.2.3.intoto.jsonl",
    ]);
    expect(JSON.parse(publish?.stdout ?? "")).toEqual({ service: "service2", version: "1.2.3" });
    const pushed = interception(
      ["bun", "deploy.ts", "publish", "--service=service1", "--registry=r/x", "--json"],
      REPO_ROOT,
    );
    expect(JSON.parse(pushed?.stdout ?? "").registry.digest).toMatch(/^sha256:0{64}$/);
    expect([...(interception(["gh", "release", "view", "x"], REPO_ROOT)?.needs.keys() ?? [])]).toEqual(["gh"]);
    expect([
      ...(interception(["bun", "deploy.ts", "--version_service1=dev"], REPO_ROOT)?.needs.keys() ?? []),
    ]).toContain("docker-compose");
  });
});
