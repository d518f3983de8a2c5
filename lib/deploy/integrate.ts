/**
 * The integration stage of a release: the candidate of one service, pulled from the registry it
 * was published to, deployed beside the other service's last known-good image (pinned by digest)
 * on a throwaway Compose project, put through the same health gate and end-to-end check as `up`
 * (a request through service2 that reaches service1), then torn down whatever happened.
 * Nothing of a long-lived stack is touched: its own project, its own state directory, a port the
 * engine picks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apply, down, type StatusReport, status } from "./apply";
import { contextFrom } from "./context";
import { DeployError, ExitCode } from "./errors";
import { SERVICES, type ServiceName } from "./params";
import { buildPlan } from "./plan";
import { remoteManifest } from "./registry";
import { KNOWN_GOOD_VERSION } from "./versions";

export interface IntegrateOptions {
  service: ServiceName;
  version: string;
  registry: string;
  /** What the other service runs: `known-good` (default), a published version, or `dev`. */
  otherVersion: string;
  project?: string | undefined;
  healthTimeout?: string | undefined;
  quiet: boolean;
}

export interface IntegrateResult {
  project: string;
  candidate: { service: ServiceName; version: string; image: string | null; digest: string | null };
  other: { service: ServiceName; version: string | null; image: string | null; digest: string | null };
}

export const otherService = (service: ServiceName): ServiceName => SERVICES.find((s) => s !== service) ?? "service1";

export async function integrate(opts: IntegrateOptions): Promise<IntegrateResult> {
  const other = otherService(opts.service);
  const project = opts.project ?? `timekit-integrate-${opts.service}-${process.pid}`;
  const stateDir = mkdtempSync(join(tmpdir(), "timekit-integrate-"));
  const args: Record<string, unknown> = {
    project,
    state_dir: stateDir,
    registry: opts.registry,
    [`version_${opts.service}`]: opts.version,
    [`version_${other}`]: opts.otherVersion,
    port: "0",
    quiet: opts.quiet,
    ...(opts.healthTimeout !== undefined ? { health_timeout: opts.healthTimeout } : {}),
  };
  try {
    // Validates every value (exit 2) before the registry or the engine is asked anything.
    const plan = buildPlan(args);
    const ctx = contextFrom(args);
    if (opts.otherVersion === KNOWN_GOOD_VERSION) {
      const promoted = await ctx.progress.step(`${other}: look up known-good in ${opts.registry}`, () =>
        remoteManifest(`${opts.registry}/${other}`, KNOWN_GOOD_VERSION),
      );
      if (!promoted) {
        throw new DeployError(
          `${opts.registry}/${other} has no known-good image to test ${opts.service} ${opts.version} against`,
          ExitCode.failed,
          `promote one first (bun deploy.ts promote --service=${other} --version=X.Y.Z --registry=${opts.registry}), or pass --other_version=<published version> or --other_version=dev`,
        );
      }
    }
    let report: StatusReport;
    try {
      await apply(plan, ctx, { action: "up", forceUnlock: false, silent: true });
      report = await status(ctx);
    } catch (error) {
      if (error instanceof DeployError && error.exitCode !== ExitCode.usage) {
        // 3/4 mean "rolled back": for a throwaway project, that is simply a failed candidate.
        throw new DeployError(
          `integration failed: ${opts.service} ${opts.version} with ${other} ${opts.otherVersion}: ${error.message}`,
          ExitCode.failed,
          error.hint ?? `the candidate is not promoted; see the logs above, fix it and release a new version`,
        );
      }
      throw error;
    } finally {
      await down(ctx, { forceUnlock: true, volumes: true, silent: true }).catch((error: unknown) => {
        process.stderr.write(
          `deploy: could not remove the integration project ${project}: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      });
    }
    const c = report.services[opts.service];
    const o = report.services[other];
    return {
      project,
      candidate: { service: opts.service, version: opts.version, image: c.image, digest: c.digest },
      other: { service: other, version: o.version, image: o.image, digest: o.digest },
    };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
