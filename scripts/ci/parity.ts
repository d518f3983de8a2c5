/**
 * Runs workflow jobs as the ubuntu-24.04 runner would, here (scripts/ci/parity/runner.ts).
 *
 *   bun scripts/ci/parity.ts [--workflow=ci.yml]… [--job=check]… [--keep]
 *
 * Each job checks out a fresh clone of this repository's HEAD (plus one `fix(service2)` commit,
 * so release.yml has something to release). Prints one line per step and every problem; exit 0
 * when every job passed, 1 otherwise, 2 on a usage error. --keep leaves the scratch directory
 * (clones, step scripts and transcripts) for a look.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { prepareRunnerImage } from "./parity/image";
import { runWorkflow } from "./parity/runner";
import { eventFor, sourceWithRelease, WORKFLOWS, type WorkflowName } from "./parity/scenarios";

const COMMAND = "parity";
const USAGE = "usage: bun scripts/ci/parity.ts [--workflow=NAME]… [--job=ID]… [--keep]";
const REPO = resolve(import.meta.dir, "..", "..");

async function main(rawArgs: string[]): Promise<number> {
  let values: { workflow?: string[]; job?: string[]; keep?: boolean };
  try {
    ({ values } = parseArgs({
      args: rawArgs,
      options: {
        workflow: { type: "string", multiple: true },
        job: { type: "string", multiple: true },
        keep: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`${COMMAND}: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const unknown = (values.workflow ?? []).filter((w) => !(WORKFLOWS as readonly string[]).includes(w));
  if (unknown.length > 0) {
    console.error(`${COMMAND}: --workflow=${unknown[0]} is not one of ${WORKFLOWS.join(", ")}\n${USAGE}`);
    return 2;
  }
  const workflows = (values.workflow ?? [...WORKFLOWS]) as WorkflowName[];
  const scratch = mkdtempSync(join(tmpdir(), "timekit-parity-"));
  try {
    const image = prepareRunnerImage(scratch);
    console.log(
      `${COMMAND}: runner image PATH ${image.bin}; image commands missing here (stubs): ${image.stubs.join(", ") || "none"}`,
    );
    const source = sourceWithRelease(REPO, scratch);
    let problems = 0;
    for (const file of workflows) {
      const report = await runWorkflow({
        source,
        file,
        text: await Bun.file(join(REPO, ".github", "workflows", file)).text(),
        event: eventFor(file, source),
        image,
        workDir: join(scratch, file),
        ...(values.job ? { jobs: values.job } : {}),
        onLine: (line) => console.log(line),
      });
      for (const problem of report.problems) console.log(`problem: ${problem}`);
      problems += report.problems.length;
    }
    console.log(
      `${COMMAND}: ${workflows.join(", ")}: ${problems} problem(s)${values.keep ? `; scratch kept in ${scratch}` : ""}`,
    );
    return problems === 0 ? 0 : 1;
  } finally {
    if (!values.keep) rmSync(scratch, { recursive: true, force: true });
  }
}

process.exit(await main(process.argv.slice(2)));
