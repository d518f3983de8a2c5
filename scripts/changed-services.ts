/**
 * Which services changed, for the workflows.
 *
 *   bun scripts/changed-services.ts --base=<rev> --head=<rev> [--github-output]
 *   bun scripts/changed-services.ts --pending-release [--github-output]
 *
 * Prints one JSON object (`services`, `any`, `reason`, `files`); with --github-output also
 * appends `services=[...]`, `any=true|false` and `<service>=true|false` to $GITHUB_OUTPUT.
 * Exit codes: 0 done, 1 failed, 2 usage error.
 */
import { appendFile } from "node:fs/promises";
import { exitWithUsageError, parseStrictArgs, UsageError } from "../lib/cli/strict-args";
import {
  type ChangedServices,
  detectChangedServices,
  githubOutputLines,
  servicesPendingRelease,
} from "../lib/release/changed";
import { repositoryRoot } from "../lib/release/git";

const COMMAND = "changed-services";
const USAGE =
  "usage: bun scripts/changed-services.ts (--base=<rev> [--head=<rev>] | --pending-release) [--github-output]";

const argsDef = {
  base: { type: "string", description: "Compare from this commit (merge base with --head)" },
  head: { type: "string", description: "Compare to this commit", default: "HEAD" },
  pending_release: { type: "boolean", description: "Services with unreleased fix/feat/breaking commits" },
  github_output: { type: "boolean", description: "Also append the result to $GITHUB_OUTPUT" },
} as const;

async function main(rawArgs: string[]): Promise<void> {
  const args = parseStrictArgs(argsDef, rawArgs);
  if (args.pending_release === (args.base !== undefined)) {
    throw new UsageError("give either --base=<rev> (with optional --head) or --pending-release");
  }
  const outputFile = Bun.env.GITHUB_OUTPUT;
  if (args.github_output && !outputFile) {
    throw new UsageError("--github-output needs the GITHUB_OUTPUT environment variable");
  }
  const root = await repositoryRoot(process.cwd());
  const changed: ChangedServices = args.pending_release
    ? await servicesPendingRelease(root, args.head)
    : await detectChangedServices(root, args.base ?? "", args.head);
  console.log(JSON.stringify({ ...changed, any: changed.services.length > 0 }));
  if (args.github_output && outputFile) await appendFile(outputFile, `${githubOutputLines(changed).join("\n")}\n`);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) exitWithUsageError(error, COMMAND, USAGE);
  console.error(`${COMMAND}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
