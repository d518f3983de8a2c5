/** `deploy.ts up` (the default command): validate every flag into a plan, then deploy it or print it. */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import type { LockOptions } from "../../deploy/actions/up";
import { DEFAULT_LIMITS, type Plan, type PlanRequest, planFor } from "../../deploy/plan";
import type { Given } from "../../deploy/reuse";
import type { VersionSpec } from "../../deploy/versions";
import { KNOWN_GOOD } from "../../images/registry";
import { trustedKeyDirs } from "../../images/signing";
import { DEFAULT_PORT } from "../../limits";
import { REPO_ROOT } from "../../paths";
import { perService, type ServiceName } from "../../services";
import { settingProblem } from "../../settings";
import { openTarget, type TargetSettings } from "../../targets";
import { defineCommand } from "../command";
import { edgeReuseProblems, service2ReplicasFrom } from "../edge-flags";
import { type Common, check, commonFrom, contextFor, healthTimeoutFrom, lockFrom, targetFrom } from "../flags";
import { renderProblems } from "../render-problems";
import { settingsFrom } from "../settings-flags";
import { upArgs } from "../up-args";
import {
  registry as checkRegistry,
  cpuLimit,
  envFile,
  integer,
  localRepository,
  memoryLimit,
  type Problems,
  replicasFrom,
  version,
} from "../values";

export interface UpOptions {
  common: Common;
  target: TargetSettings;
  /** Every field filled: given values, else defaults (reuseRunning swaps in what runs). */
  plan: Plan;
  given: Given;
  reset: boolean;
  /** The deploy file the flags came from, recorded in history. */
  file?: string;
  lock: LockOptions;
  dryRun: boolean;
  json: boolean;
}

export default defineCommand({
  name: "up",
  description: "Deploy both services (the default command); exits 0 once both pass the health gate",
  args: upArgs,
  options(values, io, flagsGiven): UpOptions {
    const problems: Problems = [];
    const target = targetFrom(values, io, problems);
    const common = commonFrom(values, io, problems);
    const registry = checkRegistry(values.registry ?? (io.env.REGISTRY || undefined), problems);
    let archiveDir: string | undefined;
    if (values.from_archive !== undefined) {
      archiveDir = resolve(values.from_archive);
      if (!existsSync(archiveDir))
        problems.push(`--from_archive=${JSON.stringify(values.from_archive)}: no such directory`);
    }
    const replicas = replicasFrom(values.additional_param_1, values.replicas_service1, problems) ?? 1;
    const replicasService2 = service2ReplicasFrom(values, target.kind, problems);
    const port =
      integer(
        "port",
        values.port,
        { min: 0, max: 65535 },
        "use a TCP port from 1 to 65535, or 0 for any free port",
        problems,
      ) ?? DEFAULT_PORT;
    const versions = perService((service): VersionSpec => {
      const flag = `version_${service}` as const;
      const raw = values[flag];
      const spec = (raw === undefined ? undefined : version(flag, raw, problems)) ?? { kind: "dev" };
      if (spec.kind === "known-good" && !registry && !archiveDir) {
        problems.push(
          `--${flag}=${KNOWN_GOOD} names the image promoted in a registry or an archive directory; give --registry=R (or env REGISTRY) or --from_archive=DIR`,
        );
      }
      return spec;
    });
    const env = perService((service: ServiceName) => {
      const flag = `env_file_${service}` as const;
      const file = values[flag];
      return file !== undefined
        ? envFile(flag, resolve(file), problems, (key, value) => settingProblem(service, key, value))
        : {};
    });
    const repository = localRepository(values.local_repository, problems);
    const memory = memoryLimit(values.mem_limit, problems);
    const cpus = cpuLimit(values.cpus, availableParallelism(), problems);
    if (target.kind !== "compose") {
      for (const flag of ["mem_limit", "cpus"] as const) {
        if (values[flag] !== undefined) {
          problems.push(
            `--${flag} is a Compose container limit; with --target=${target.kind} set resources in the chart or overlay`,
          );
        }
      }
    }
    if (values.allow_untrusted_archive && archiveDir === undefined) {
      problems.push("--allow_untrusted_archive applies to archives only; give --from_archive=DIR too");
    }
    settingsFrom(values, env, problems);
    const lock = lockFrom(values, problems);
    const healthTimeoutMs = healthTimeoutFrom(values, problems);
    check(problems);
    const request: PlanRequest = {
      target: target.kind,
      ...(target.kind === "compose" ? {} : { k8s: target.k8s }),
      project: common.project,
      versions,
      replicas,
      replicasService2,
      edge: !values.publish_service2_directly,
      port: target.kind === "compose" ? port : 0,
      registry,
      archiveDir,
      archiveTrust: archiveDir
        ? {
            keyDirs: trustedKeyDirs(REPO_ROOT, dirname(common.stateDir)),
            allowUntrusted: values.allow_untrusted_archive,
          }
        : undefined,
      env,
      healthTimeoutMs,
      localRepository: repository,
      limits: { memory: memory ?? DEFAULT_LIMITS.memory, cpus: cpus ?? DEFAULT_LIMITS.cpus },
    };
    const plan = planFor(request);
    const given: Given = {
      versions: perService((service) => values[`version_${service}`] !== undefined),
      replicas: values.additional_param_1 !== undefined || values.replicas_service1 !== undefined,
      replicasService2: values.replicas_service2 !== undefined,
      edge: flagsGiven.has("publish_service2_directly"),
      port: values.port !== undefined,
      env: perService((service) => Object.keys(env[service])),
      limits: { memory: values.mem_limit !== undefined, cpus: values.cpus !== undefined },
    };
    return {
      common,
      target,
      plan,
      given,
      reset: values.reset,
      lock,
      dryRun: values.dry_run,
      json: values.json,
      ...(values.file ? { file: resolve(values.file) } : {}),
    };
  },
  async run(options, io) {
    const ctx = contextFor(options.common, io);
    const target = await openTarget(options.target, ctx);
    const { apply } = await import("../../deploy/actions/apply");
    await apply(target, ctx, {
      ...options,
      check: (plan) => check([...edgeReuseProblems(plan, options.given), ...renderProblems(plan, options.target)]),
    });
  },
});
