/**
 * `deploy.ts version --service=S [--write] [--tag] [--json]`
 *
 * Prints the next version of one service from the conventional commits that touched it since
 * its last release tag; `--write` puts that version into `<service>/package.json` (and bun.lock),
 * `--tag` creates the annotated tag `<service>-vX.Y.Z` on HEAD. With nothing to release it says
 * so, changes nothing and exits 0. Exit codes: 0 done, 1 failed, 2 usage error.
 */
import { defineCommand } from "citty";
import { exitWithUsageError, parseStrictArgs, requireChoice, UsageError } from "../../cli/strict-args";
import { repositoryRoot } from "../git";
import { SERVICES } from "../services";
import { createReleaseTag, planRelease, type ReleasePlan, writeServiceVersion } from "../version";

export const versionArgs = {
  service: {
    type: "string",
    valueHint: SERVICES.join("|"),
    description: "The service to version (required)",
  },
  write: { type: "boolean", description: "Write the next version into <service>/package.json" },
  tag: { type: "boolean", description: "Create the annotated tag <service>-vX.Y.Z on HEAD" },
  json: { type: "boolean", description: "Print the result as one JSON object" },
} as const;

/** What `--json` prints: stable field names other tools (the release workflow) read. */
export interface VersionReport {
  service: string;
  commit: string;
  current: string;
  lastTag: string | null;
  release: boolean;
  bump: string | null;
  next: string | null;
  tag: string | null;
  written: string[];
  tagged: boolean;
  commits: Array<{ hash: string; header: string; bump: string | null }>;
}

export function versionReport(plan: ReleasePlan, written: string[], tagged: boolean): VersionReport {
  return {
    service: plan.service,
    commit: plan.commit,
    current: plan.current,
    lastTag: plan.lastTag,
    release: plan.next !== null,
    bump: plan.next?.bump ?? null,
    next: plan.next?.version ?? null,
    tag: plan.tag,
    written,
    tagged,
    commits: plan.commits.map(({ hash, header, bump }) => ({ hash, header, bump })),
  };
}

export function formatVersionReport(report: VersionReport): string {
  const since = report.lastTag ? `since ${report.lastTag}` : "in its history (no release tag yet)";
  const counted = report.commits.filter((c) => c.bump !== null);
  const lines = report.release
    ? [
        `${report.service}: ${report.current} -> ${report.next} (${report.bump}; ${counted.length} releasable commit(s) ${since})`,
        ...counted.map((c) => `  ${c.hash.slice(0, 12)} ${c.bump?.padEnd(5)} ${c.header}`),
      ]
    : [`${report.service}: no release; ${report.current} stays (no fix, feat or breaking commit ${since})`];
  for (const file of report.written) lines.push(`wrote ${report.next} to ${file}`);
  if (report.tagged) lines.push(`tagged ${report.commit.slice(0, 12)} as ${report.tag}`);
  return lines.join("\n");
}

export interface VersionOptions {
  service: string;
  write: boolean;
  tag: boolean;
  cwd: string;
}

/** The command's work without process concerns; throws UsageError for a bad service name. */
export async function runVersion(options: VersionOptions): Promise<VersionReport> {
  const service = requireChoice("service", options.service, SERVICES);
  const root = await repositoryRoot(options.cwd);
  const plan = await planRelease(root, service);
  // Tag first: it is the step that can be refused (the tag exists), and then nothing has changed.
  const tagged = options.tag && plan.next !== null;
  if (tagged) await createReleaseTag(root, plan);
  const written = options.write && plan.next ? await writeServiceVersion(root, service, plan.next.version) : [];
  return versionReport(plan, written, tagged);
}

const COMMAND = "deploy.ts version";

export const versionCommand = defineCommand({
  meta: { name: "version", description: "Compute (and optionally write and tag) a service's next version" },
  args: versionArgs,
  async run({ rawArgs }) {
    try {
      const args = parseStrictArgs(versionArgs, rawArgs);
      if (args.service === undefined) {
        throw new UsageError(`--service is required (one of ${SERVICES.join(", ")})`, "--service");
      }
      const report = await runVersion({ service: args.service, write: args.write, tag: args.tag, cwd: process.cwd() });
      console.log(args.json ? JSON.stringify(report) : formatVersionReport(report));
    } catch (error) {
      if (error instanceof UsageError) exitWithUsageError(error, COMMAND);
      console.error(`${COMMAND}: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
  },
});

export default versionCommand;
