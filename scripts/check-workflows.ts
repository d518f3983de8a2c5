/**
 * Checks every workflow under .github/workflows: the project's rules (lib/ci/workflow-rules.ts),
 * shellcheck over each `run:` script, and actionlint.
 *
 *   bun scripts/check-workflows.ts [--dir=.github/workflows] [--no-shellcheck] [--no-actionlint]
 *
 * Prints one line per finding; exit 0 clean, 1 findings, 2 usage error.
 */
import { relative, resolve } from "node:path";
import { runActionlint } from "../lib/ci/actionlint";
import { shellcheckAvailable, shellcheckRunScripts } from "../lib/ci/shellcheck";
import { checkWorkflow, type Finding, formatFinding } from "../lib/ci/workflow-rules";
import { loadWorkflows, runScripts } from "../lib/ci/workflows";
import { exitWithUsageError, parseStrictArgs, UsageError } from "../lib/cli/strict-args";

const COMMAND = "check-workflows";
const USAGE = "usage: bun scripts/check-workflows.ts [--dir=DIR] [--no-shellcheck] [--no-actionlint]";

const argsDef = {
  dir: { type: "string", default: ".github/workflows", description: "Directory holding the workflows" },
  shellcheck: { type: "boolean", default: true, description: "Run shellcheck over run: scripts" },
  actionlint: { type: "boolean", default: true, description: "Run actionlint" },
} as const;

async function main(rawArgs: string[]): Promise<number> {
  const args = parseStrictArgs(argsDef, rawArgs);
  const dir = resolve(args.dir);
  const workflows = await loadWorkflows(dir);
  if (workflows.length === 0) {
    console.error(`${COMMAND}: no *.yml or *.yaml files in ${dir}`);
    return 1;
  }
  const findings: Finding[] = workflows.flatMap(checkWorkflow);

  if (args.shellcheck) {
    if (shellcheckAvailable()) findings.push(...(await shellcheckRunScripts(workflows.flatMap(runScripts))));
    else
      findings.push({
        file: dir,
        line: 1,
        rule: "shellcheck",
        message: "shellcheck is not on PATH (or pass --no-shellcheck)",
      });
  }

  let lintOutput = "";
  if (args.actionlint) {
    const lint = await runActionlint(dir, "*.{yml,yaml}");
    if (lint.exitCode !== 0 || lint.checked !== workflows.length) {
      lintOutput = lint.output;
      findings.push({
        file: dir,
        line: 1,
        rule: "actionlint",
        message: `actionlint exit ${lint.exitCode}, checked ${lint.checked} of ${workflows.length} file(s)`,
      });
    }
  }

  const cwd = process.cwd();
  for (const f of findings) console.log(formatFinding({ ...f, file: relative(cwd, f.file) || f.file }));
  if (lintOutput) console.log(lintOutput.trimEnd());
  const names = workflows.map((w) => relative(cwd, w.file)).join(", ");
  console.log(`${COMMAND}: ${workflows.length} workflow(s) (${names}); ${findings.length} finding(s)`);
  return findings.length === 0 ? 0 : 1;
}

try {
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  if (error instanceof UsageError) exitWithUsageError(error, COMMAND, USAGE);
  console.error(`${COMMAND}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
