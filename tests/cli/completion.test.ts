/**
 * Completion scripts generated from the flag definitions: the bash one run in a real bash (every
 * case as readline would hand it over, "=" breaking words or not), shellcheck-clean; the zsh and
 * fish ones name every command and flag.
 */
import { describe, expect, test } from "bun:test";
import type { ArgDef } from "citty";
import { COMMANDS } from "../../lib/cli/main";
import { deploy } from "./support";

const script = async (shell: string) => {
  const r = await deploy(["completion", shell]);
  expect(r.code).toBe(0);
  return r.stdout;
};

/** COMPREPLY for the words typed so far (the last one is being completed), from a real bash. */
function complete(bashScript: string, words: string[]): string[] {
  const harness = `${bashScript}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=()
if [[ \${COMP_WORDS[0]} == bun ]]; then _timekit_deploy_bun; else _timekit_deploy; fi
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = Bun.spawnSync(["bash", "--noprofile", "--norc", "-c", harness]);
  expect(result.stderr.toString()).toBe("");
  return result.stdout.toString().split("\n").filter(Boolean);
}

describe("bash", () => {
  test.each([
    [["deploy.ts", "st"], ["status"]],
    [["deploy.ts", "co"], ["completion"]],
    [["deploy.ts", "status", "--j"], ["--json"]],
    [
      ["bun", "deploy.ts", "--version_s"],
      ["--version_service1=", "--version_service2="],
    ],
    [["./deploy.ts", "--log_level_service1=d"], ["--log_level_service1=debug"]],
    [
      ["deploy.ts", "rollback", "--service="],
      ["--service=service1", "--service=service2"],
    ],
    [["deploy.ts", "--target", "=", "h"], ["helm"]],
    [
      ["deploy.ts", "--target", "="],
      ["compose", "k8s", "helm"],
    ],
    [["deploy.ts", "--target", "=", "helm", "sta"], ["status"]],
    [["deploy.ts", "--port", "=", "80"], []],
    [["bun", "other.ts", "--x"], []],
  ])("%j → %j", async (words, want) => {
    expect(complete(await script("bash"), words)).toEqual(want);
  });

  test("every flag of every command completes where that command is named", async () => {
    const bash = await script("bash");
    for (const command of COMMANDS) {
      const offered = complete(bash, ["deploy.ts", command.name, "--"]);
      for (const [name, def] of Object.entries(command.args as Record<string, ArgDef>)) {
        expect(offered).toContain(def.type === "boolean" ? `--${name}` : `--${name}=`);
      }
    }
  });

  test("shellcheck finds nothing", async () => {
    const result = Bun.spawnSync(["shellcheck", "-s", "bash", "-"], { stdin: Buffer.from(await script("bash")) });
    expect(result.stdout.toString()).toBe("");
    expect(result.exitCode).toBe(0);
  });
});

test("zsh loads the same completion through bashcompinit", async () => {
  const zsh = await script("zsh");
  expect(zsh.split("\n")[0]).toBe("#compdef deploy.ts");
  expect(zsh).toContain("bashcompinit");
  expect(zsh).toContain("_timekit_deploy()");
});

test("fish: one line per command and per flag of each command", async () => {
  const fish = await script("fish");
  for (const command of COMMANDS) {
    expect(fish).toContain(`-a ${command.name} -d '`);
    for (const name of Object.keys(command.args)) {
      expect(fish).toMatch(new RegExp(`__fish_seen_subcommand_from ${command.name}[;"].* -l ${name}( |$)`, "m"));
    }
  }
  expect(fish).toContain("-l log_level_service1 -x -a 'fatal error warn info debug trace silent'");
});

test("a shell it does not know: exit 2 naming the three it does", async () => {
  const r = await deploy(["completion", "powershell"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('completion takes one shell: bash, zsh, fish (got "powershell")');
});
