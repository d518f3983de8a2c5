/**
 * The integration stage of a release, before anything is published: the candidate of one
 * service, exactly the local image `build` made (timekit/S:X.Y.Z), deployed beside the other
 * service on a throwaway Compose project, put through the same health gate and end-to-end check
 * as `up` (a request through service2 that reaches service1), then torn down whatever happened.
 *
 * The other service runs, as asked:
 * - `known-good`: its last promoted image, `<registry>/known-good/<other>:latest`, by digest;
 * - `candidate`: its own next release built from this commit (both services changed in one
 *   push): builds are reproducible, so this is the very image the other service's release tests
 *   and publishes, and the two are integrated together;
 * - `dev`: its current source (the very first release, when nothing is promoted yet);
 * - `X.Y.Z`: that published version.
 * Nothing of a long-lived stack is touched: its own project, its own state directory, a port
 * the engine picks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeployError, ExitCode, errorText } from "../../errors";
import { KNOWN_GOOD_TAG, knownGoodRepository, remoteManifest } from "../../images/registry";
import { buildRelease, localRef } from "../../images/release";
import type { Io } from "../../io";
import { REPO_ROOT } from "../../paths";
import { planRelease } from "../../release/version";
import { otherService, perService, type ServiceName } from "../../services";
import { type ComposeSettings, ComposeTarget } from "../../targets/compose";
import type { TargetContext } from "../../targets/target";
import { History } from "../history";
import { type Plan, planFor } from "../plan";
import { Progress } from "../progress";
import type { VersionSpec } from "../versions";
import { down } from "./down";
import { up } from "./up";

/** What the other service runs beside the candidate. */
export type OtherVersion = VersionSpec | { kind: "candidate" };

export interface IntegrateRequest {
  service: ServiceName;
  version: string;
  /** Where known-good and published versions of the other service are pulled from. */
  registry: string | undefined;
  other: OtherVersion;
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

/** The other service's candidate: its next version at this commit, built here (or found, if built already). */
async function buildOtherCandidate(other: ServiceName, ctx: TargetContext): Promise<string> {
  const plan = await planRelease(REPO_ROOT, other);
  if (!plan.next) {
    throw new DeployError(
      `${other} has nothing to release at ${plan.commit.slice(0, 12)}: there is no candidate of it to integrate with`,
      ExitCode.usage,
      "integrate against its known-good instead (--other_version=known-good)",
    );
  }
  const version = plan.next.version;
  await ctx.progress.step(`${other} ${version}: build its candidate`, () =>
    buildRelease(other, version, (line) => ctx.progress.note(line)),
  );
  return version;
}

/** The plan: the other service as asked, the candidate from the local engine (never pulled). */
async function integrationPlan(request: IntegrateRequest, ctx: TargetContext): Promise<Plan> {
  const { service, registry } = request;
  const other = otherService(service);
  let otherSpec: VersionSpec;
  if (request.other.kind === "candidate") otherSpec = { kind: "tag", tag: await buildOtherCandidate(other, ctx) };
  else otherSpec = request.other;
  if (
    (otherSpec.kind === "known-good" || (otherSpec.kind === "tag" && request.other.kind !== "candidate")) &&
    !registry
  ) {
    throw new DeployError(
      `integrate --other_version=${request.other.kind === "tag" ? request.other.tag : request.other.kind} pulls ${other} from a registry; none was given`,
      ExitCode.usage,
      "pass --registry=R (or env REGISTRY), or --other_version=candidate or dev",
    );
  }
  if (otherSpec.kind === "known-good" && registry) {
    const repository = knownGoodRepository(registry, other);
    const promoted = await ctx.progress.step(`${other}: look up known-good in ${repository}`, () =>
      remoteManifest(repository, KNOWN_GOOD_TAG),
    );
    if (!promoted) {
      throw new DeployError(
        `${repository} has no known-good image to test ${service} ${request.version} against`,
        ExitCode.failed,
        `promote one first (bun deploy.ts promote --service=${other} --version=X.Y.Z --registry=${registry}), or on the very first release pass --other_version=candidate (both released now) or --other_version=dev`,
      );
    }
  }
  const plan = planFor({
    target: "compose",
    project: request.project,
    versions: perService((s) => (s === service ? { kind: "tag", tag: request.version } : otherSpec)),
    replicas: 1,
    port: 0,
    registry: request.other.kind === "candidate" ? undefined : registry,
    env: perService(() => ({})),
    healthTimeoutMs: request.healthTimeoutMs,
  });
  // The candidate is what `build` left in the engine: integration runs before anything is published.
  plan.services[service] = {
    ...plan.services[service],
    image: localRef(service, request.version),
    source: { kind: "local" },
  };
  return plan;
}

export async function integrate(request: IntegrateRequest, io: Io): Promise<IntegrateResult> {
  const { service, version, project } = request;
  const other = otherService(service);
  const stateDir = mkdtempSync(join(tmpdir(), "timekit-integrate-"));
  const ctx: TargetContext = { project, stateDir, progress: new Progress(io, request.quiet), io };
  const target = new ComposeTarget(ctx, request.compose);
  const otherLabel = request.other.kind === "tag" ? request.other.tag : request.other.kind;
  try {
    const plan = await integrationPlan(request, ctx);
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
          error.fix ?? "the candidate is not published; see the logs above, fix it and release again",
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
