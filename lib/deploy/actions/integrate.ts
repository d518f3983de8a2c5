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
import { DeployError, ExitCode, errorText } from "../../errors";
import { KNOWN_GOOD, remoteManifest } from "../../images/registry";
import type { Io } from "../../io";
import { otherService, perService, type ServiceName } from "../../services";
import { type ComposeSettings, ComposeTarget } from "../../targets/compose";
import type { TargetContext } from "../../targets/target";
import { History } from "../history";
import { planFor } from "../plan";
import { Progress } from "../progress";
import type { VersionSpec } from "../versions";
import { down } from "./down";
import { up } from "./up";

export interface IntegrateRequest {
  service: ServiceName;
  version: string;
  registry: string;
  /** What the other service runs: known-good (default), a published version, or dev. */
  other: VersionSpec;
  project: string;
  healthTimeoutMs: number;
  compose: ComposeSettings;
  quiet: boolean;
}

export interface IntegrateResult {
  project: string;
  candidate: { service: ServiceName; version: string; image: string | null; digest: string | null };
  other: { service: ServiceName; version: string | null; image: string | null; digest: string | null };
}

export async function integrate(request: IntegrateRequest, io: Io): Promise<IntegrateResult> {
  const { service, version, registry, project } = request;
  const other = otherService(service);
  const stateDir = mkdtempSync(join(tmpdir(), "timekit-integrate-"));
  const ctx: TargetContext = { project, stateDir, progress: new Progress(io, request.quiet), io };
  const target = new ComposeTarget(ctx, request.compose);
  const plan = planFor({
    target: "compose",
    project,
    versions: perService((s) => (s === service ? { kind: "tag", tag: version } : request.other)),
    replicas: 1,
    port: 0,
    registry,
    env: perService(() => ({})),
    healthTimeoutMs: request.healthTimeoutMs,
  });
  const otherLabel = request.other.kind === "tag" ? request.other.tag : request.other.kind;
  try {
    if (request.other.kind === "known-good") {
      const promoted = await ctx.progress.step(`${other}: look up known-good in ${registry}`, () =>
        remoteManifest(`${registry}/${other}`, KNOWN_GOOD),
      );
      if (!promoted) {
        throw new DeployError(
          `${registry}/${other} has no known-good image to test ${service} ${version} against`,
          ExitCode.failed,
          `promote one first (bun deploy.ts promote --service=${other} --version=X.Y.Z --registry=${registry}), or pass --other_version=<published version> or --other_version=dev`,
        );
      }
    }
    let report: Awaited<ReturnType<typeof target.status>>;
    try {
      await up(target, ctx, { plan, action: "up", lock: { waitMs: 0, force: false }, silent: true });
      report = await target.status(await new History(stateDir).lastGood());
    } catch (error) {
      if (error instanceof DeployError && error.exitCode !== ExitCode.usage) {
        // 3/4 mean "rolled back": for a throwaway project, that is simply a failed candidate.
        throw new DeployError(
          `integration failed: ${service} ${version} with ${other} ${otherLabel}: ${error.message}`,
          ExitCode.failed,
          error.fix ?? "the candidate is not promoted; see the logs above, fix it and release a new version",
        );
      }
      throw error;
    } finally {
      await down(target, ctx, { volumes: true, lock: { waitMs: 0, force: true }, silent: true }).catch(
        (error: unknown) =>
          io.stderr(`deploy: could not remove the integration project ${project}: ${errorText(error)}\n`),
      );
    }
    const c = report.services[service];
    const o = report.services[other];
    return {
      project,
      candidate: { service, version, image: c.image, digest: c.digest },
      other: { service: other, version: o.version, image: o.image, digest: o.digest },
    };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
