/**
 * What a `run:` script calls, read from its parse tree, and which calls the parity test runs only
 * in "resolve-only" mode: there it checks that every command they need resolves on the runner's
 * PATH instead of running them. The rule (docs/pipeline.md):
 * - `bun test …` and `bun run <package.json script>`: suites and checks `.ci/run` runs in full;
 *   their tools come from SUITE_TOOLS (lib/ci/suites.ts) and the script's own commands;
 * - `bun deploy.ts <subcommand>` except `version`: builds, publishes, deploys (CLI_TOOLS);
 * - `git push` and every `gh` call: never publish to GitHub from a test;
 * - every command of a step that needs a cluster (after helm/kind-action).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import sh, { type Node } from "mvdan-sh";
import { selectedTestFiles, suiteTools } from "../../../lib/ci/suites";
import { cliTools } from "../../../lib/ci/tools";
import { archivePaths } from "../../../lib/images/archive-paths";
import type { PublishResult } from "../../../lib/images/publish";

const BUILTINS = new Set(
  (
    ". : [ [[ alias bg break builtin caller cd command compgen complete continue declare dirs disown echo enable " +
    "eval exec exit export false fc fg getopts hash help history jobs kill let local logout mapfile popd printf " +
    "pushd pwd read readarray readonly return set shift shopt source suspend test times trap true type typeset " +
    "ulimit umask unalias unset wait"
  ).split(" "),
);

export interface ShellCommand {
  /** The command word with quotes removed. */
  name: string;
  /** Literal argument words (quotes removed); words with expansions keep their text. */
  args: string[];
}

export interface ScriptCommands {
  commands: ShellCommand[];
  /** Functions the script defines (calls to them are not PATH lookups). */
  functions: Set<string>;
}

const { syntax } = sh;

/** A word's value when it is literal (quotes removed), else null (it expands at run time). */
function literal(word: Node): string | null {
  let value = "";
  for (const part of word.Parts as Node[]) {
    const type = syntax.NodeType(part);
    if (type === "Lit" || type === "SglQuoted") value += part.Value as string;
    else if (type === "DblQuoted" && (part.Parts as Node[]).every((p) => syntax.NodeType(p) === "Lit")) {
      value += (part.Parts as Node[]).map((p) => p.Value as string).join("");
    } else return null;
  }
  return value;
}

/** Every simple command in `script` (bash), including those in functions, loops and `$( … )`. */
export function scriptCommands(script: string): ScriptCommands {
  let tree: Node;
  try {
    tree = syntax.NewParser().Parse(script, "run");
  } catch (error) {
    const message = (error as { Error?: () => string }).Error?.() ?? String(error);
    throw new Error(`cannot parse the script: ${message}`);
  }
  const commands: ShellCommand[] = [];
  const functions = new Set<string>();
  syntax.Walk(tree, (node) => {
    if (node === null) return true;
    const type = syntax.NodeType(node);
    if (type === "FuncDecl") functions.add((node.Name as Node).Value as string);
    if (type === "CallExpr" && (node.Args as Node[]).length > 0) {
      const [name, ...args] = (node.Args as Node[]).map(
        (word) => literal(word) ?? script.slice(word.Pos().Offset(), word.End().Offset()),
      );
      // A command word that expands at run time ("$wrk") cannot be looked up before it runs.
      if (literal((node.Args as Node[])[0] as Node) !== null) commands.push({ name: name as string, args });
    }
    return true;
  });
  return { commands, functions };
}

/** The commands of a script that PATH must provide (no builtins, own functions or paths). */
export function externalCommands(parsed: ScriptCommands): string[] {
  return [
    ...new Set(
      parsed.commands
        .map((c) => c.name)
        .filter((n) => !BUILTINS.has(n) && !parsed.functions.has(n) && !n.includes("/")),
    ),
  ];
}

export interface Interception {
  /** What the command is, for the report. */
  what: string;
  /** Each command it needs, with why. */
  needs: Map<string, string[]>;
  /** Files it would write that later steps read (created as placeholders). */
  writes: string[];
  /** What it would print that later commands read (`publish --json`), in the real output's shape. */
  stdout?: string;
  /** Directories searched besides PATH (`bun run` adds node_modules/.bin). */
  extraPath?: string[];
}

function need(needs: Map<string, string[]>, tool: string, why: string): void {
  needs.set(tool, [...(needs.get(tool) ?? []), why]);
}

function packageScript(root: string, name: string): string | null {
  const file = join(root, "package.json");
  if (!existsSync(file)) return null;
  const scripts = (JSON.parse(readFileSync(file, "utf8")) as { scripts?: Record<string, string> }).scripts ?? {};
  return scripts[name] ?? null;
}

/**
 * `publish`'s outputs later steps read: the archive directory's files (placeholders under the
 * real names) and, with --json, a report of the real shape (typed by PublishResult) whose
 * registry digest is a placeholder.
 */
function publishOutputs(what: string, needs: Map<string, string[]>, flags: readonly string[]): Interception {
  const value = (name: RegExp) => {
    const flag = flags.find((f) => name.test(f.split("=")[0] ?? ""));
    return flag?.includes("=") ? flag.slice(flag.indexOf("=") + 1) : undefined;
  };
  const service = value(/^--service$/) ?? "service";
  const version = value(/^--version$/) ?? "0.0.0";
  const archiveDir = value(/^--archive[_-]?dir$/i);
  const registry = value(/^--registry$/);
  const writes = archiveDir ? Object.values(archivePaths(archiveDir, service, version)) : [];
  const report: Pick<PublishResult, "service" | "version"> & {
    registry?: Pick<NonNullable<PublishResult["registry"]>, "repository" | "digest">;
  } = {
    service: service as PublishResult["service"],
    version,
    ...(registry ? { registry: { repository: `${registry}/${service}`, digest: `sha256:${"0".repeat(64)}` } } : {}),
  };
  return { what, needs, writes, ...(flags.includes("--json") ? { stdout: `${JSON.stringify(report)}\n` } : {}) };
}

/**
 * How the parity test treats `argv` run in `root`: null to run it for real, else what it needs
 * (resolve-only). Throws when the command is wrong in a way running it would show (no test file
 * selected, an unknown subcommand).
 */
export function interception(argv: readonly string[], root: string): Interception | null {
  const [command, first, ...rest] = argv;
  if (command === "git" && first === "push") {
    return { what: `git push ${rest.join(" ")}`, needs: new Map([["git", ["git push"]]]), writes: [] };
  }
  if (command === "gh") {
    const what = `gh ${[first, ...rest].filter(Boolean).join(" ")}`;
    return { what, needs: new Map([["gh", [what]]]), writes: [] };
  }
  if (command !== "bun" || first === undefined) return null;
  if (first === "test") {
    const files = selectedTestFiles(rest, root);
    if (files.length === 0) throw new Error(`bun test ${rest.join(" ")} selects no test file`);
    const needs = suiteTools(files);
    need(needs, "bun", "bun test");
    return { what: `bun test ${rest.join(" ")} (${files.length} test files)`.replace("  ", " "), needs, writes: [] };
  }
  if (first === "run" && rest[0] !== undefined) {
    const script = packageScript(root, rest[0]);
    if (script === null) return null; // `bun run <file>` runs a file: for real
    const needs = new Map<string, string[]>();
    for (const tool of externalCommands(scriptCommands(script))) need(needs, tool, `package.json script ${rest[0]}`);
    return {
      what: `bun run ${rest[0]} (${script})`,
      needs,
      writes: [],
      extraPath: [join(root, "node_modules", ".bin")],
    };
  }
  if (first === "deploy.ts") {
    const subcommand = rest[0] === undefined || rest[0].startsWith("-") ? "up" : rest[0];
    if (subcommand === "version") return null;
    const flags = rest.filter((arg) => arg.startsWith("--"));
    const needs = new Map<string, string[]>();
    need(needs, "bun", `deploy.ts ${subcommand}`);
    for (const tool of cliTools(subcommand, flags)) need(needs, tool, `deploy.ts ${subcommand}`);
    const what = `bun deploy.ts ${rest.join(" ")}`;
    return subcommand === "publish" ? publishOutputs(what, needs, flags) : { what, needs, writes: [] };
  }
  return null;
}
