/**
 * `up`, `status`, `history` and `rollback` for `--target=k8s` and `--target=helm`. Order of `up`:
 * flags (exit 2) → render, schema and policy check (exit 1, nothing applied) → a cluster answers
 * for the context (exit 1) → lock → images resolved and loaded into local clusters (exit 1) →
 * apply → gate → on a failed gate, restore the revisions from before (exit 3; 4 if that fails).
 */
import type { Context } from "../context";
import { DeployError, ExitCode, UsageError } from "../errors";
import { parseDuration, SERVICES, type ServiceName, servicesFromFlag } from "../params";
import {
  DEFAULT_HEALTH_TIMEOUT_MS,
  type Plan,
  type ServicePlan,
  type ServiceState,
  type ServiceStatus,
  serviceChanged,
} from "../plan";
import { type Action, DeployLock, entryFromState, History, type HistoryEntry, stateFromEntry } from "../state";
import { parseVersion, versionLabel } from "../versions";
import { HelmTarget } from "./helm";
import { deployments, K8sTarget } from "./k8s";
import type { KubeTarget } from "./kube-args";
import {
  checkRenderInput,
  findTools,
  type KubeSettings,
  kubeStateDir,
  loaderFor,
  loadImagesArgv,
  renderChecked,
  renderInputFor,
  requireCluster,
  runTool,
  type Tools,
} from "./kube-shared";

function kubeOf(plan: Plan): { target: KubeTarget; kube: KubeSettings } {
  if (plan.target === "compose" || !plan.kube) throw new Error("not a Kubernetes plan");
  return { target: plan.target, kube: plan.kube };
}

/** `up --dry-run`: the rendered, checked manifests (or with --json the plan and render input). */
export async function kubeDryRun(plan: Plan, json: boolean): Promise<void> {
  const { target, kube } = kubeOf(plan);
  const input = renderInputFor(plan, kube);
  checkRenderInput(input);
  const rendered = await renderChecked(target, input);
  if (json) {
    const releases = rendered.releases.map((r) => ({ release: r.release, chart: r.chart, values: r.values }));
    process.stdout.write(
      `${JSON.stringify({ dryRun: true, plan, render: input, ...(releases.length ? { releases } : {}), objects: rendered.objects.length }, null, 2)}\n`,
    );
    return;
  }
  process.stdout.write(
    `# timekit ${target} dry run: namespace ${kube.namespace}, overlay ${kube.overlay}, ${rendered.objects.length} objects; schema and policy checks passed; nothing applied\n${rendered.manifest}`,
  );
}

function driver(target: KubeTarget, tools: Tools, kube: KubeSettings, ctx: Context) {
  return target === "helm"
    ? new HelmTarget(tools.kubectl, tools.helm ?? "helm", kube, ctx.progress)
    : new K8sTarget(tools.kubectl, kube, ctx.progress);
}

function stateOf(s: ServicePlan | ServiceState): ServiceState {
  return { version: s.version, image: s.image, digest: s.digest, replicas: s.replicas, env: s.env };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Images the cluster must find: resolved in the local engine, then loaded into kind/minikube. */
async function resolveImages(plan: Plan, kube: KubeSettings, context: string, ctx: Context): Promise<Plan> {
  const loader = loaderFor(kube.loadImages, context || kube.context);
  const services = { ...plan.services };
  // A registry image (or one pinned by registry digest) is pulled by the cluster itself.
  const fromRegistry = (s: ServicePlan) =>
    s.source.kind === "registry" || (s.source.kind === "pinned" && s.image.includes("@"));
  const local = SERVICES.filter((s) => loader !== null || !fromRegistry(plan.services[s]));
  if (local.length === 0) return plan;
  const { resolveImage } = await import("../images");
  const { requireEngine } = await import("../docker");
  await ctx.progress.step("check Docker engine (images come from it)", () => requireEngine());
  for (const service of local) {
    const s = plan.services[service];
    services[service] = await ctx.progress.step(
      `${service} ${s.version}: ${s.source.kind === "build" ? "build" : "resolve"} image`,
      () => resolveImage(s, { note: (line) => ctx.progress.note(line) }),
    );
  }
  if (loader) {
    const images = SERVICES.map((s) => services[s].image);
    const command = loadImagesArgv(loader, images);
    await ctx.progress.step(`load images into ${loader.tool}: ${images.join(" ")}`, () =>
      runTool(command, command.slice(0, 3).join(" ")),
    );
  } else if (kube.overlay !== "docker-desktop") {
    ctx.progress.note(
      "images are in the local Docker engine only; the cluster must see them (Docker Desktop) or pass --load_images=kind|minikube",
    );
  }
  return { ...plan, services };
}

export async function kubeUp(
  plan: Plan,
  ctx: Context,
  opts: { action: Action; lockWait?: string | undefined; forceUnlock: boolean },
): Promise<void> {
  const started = performance.now();
  const { target, kube } = kubeOf(plan);
  checkRenderInput(renderInputFor(plan, kube));
  const tools = await findTools(target);
  // Render and check what the flags ask for before talking to any cluster.
  await ctx.progress.step(`render ${target} manifests; schema and policy checks`, () =>
    renderChecked(target, renderInputFor(plan, kube)),
  );
  const context = await ctx.progress.step("a Kubernetes cluster answers", () => requireCluster(tools.kubectl, kube));
  ctx.progress.note(`context ${context || "(current)"}, namespace ${kube.namespace}`);

  const dir = kubeStateDir(ctx.stateDir, target, kube);
  const history = new History(dir);
  const lock = new DeployLock(dir);
  const waitMs = opts.lockWait === undefined ? 0 : parseDuration(opts.lockWait);
  if (waitMs === null) throw new UsageError(`--lock_wait=${JSON.stringify(opts.lockWait)} is not a duration`);
  await lock.acquire(`${opts.action} ${target} (pid ${process.pid})`, {
    waitMs,
    force: opts.forceUnlock,
    note: (l) => ctx.progress.note(l),
  });
  const requested = { service1: plan.services.service1.version, service2: plan.services.service2.version };
  const extra = { target, context: context || null, namespace: kube.namespace, requested };
  const record = (result: HistoryEntry["result"], state: Plan, message?: string) =>
    history.append({
      ...entryFromState(
        opts.action,
        result,
        { service1: stateOf(state.services.service1), service2: stateOf(state.services.service2) },
        [...SERVICES],
        0,
        started,
        message,
      ),
      ...extra,
    } as HistoryEntry);
  try {
    let resolved: Plan;
    let rendered: Awaited<ReturnType<typeof renderChecked>>;
    try {
      resolved = await resolveImages(plan, kube, context, ctx);
      rendered = await ctx.progress.step("render with the resolved images; schema and policy checks", () =>
        renderChecked(target, renderInputFor(resolved, kube)),
      );
    } catch (error) {
      await record("failed", plan, errorText(error));
      throw error;
    }
    const d = driver(target, tools, kube, ctx);
    const before = await d.snapshot();
    try {
      if (d instanceof HelmTarget) await d.apply(rendered, plan.gate.timeoutMs);
      else await d.apply(rendered);
      await d.gate(plan.gate.timeoutMs);
    } catch (error) {
      ctx.progress.warn(`the new version failed: ${errorText(error)}`);
      let restored: { ok: boolean; message: string };
      try {
        restored = { ok: true, message: await d.restore(before, plan.gate.timeoutMs) };
      } catch (restoreError) {
        restored = { ok: false, message: errorText(restoreError) };
      }
      const message = `${target} deploy failed (${errorText(error).split("\n")[0]}); ${restored.ok ? "restored" : "restore failed"}: ${restored.message}`;
      await record(restored.ok ? "rolled-back" : "restore-failed", resolved, message);
      throw new DeployError(message, restored.ok ? ExitCode.rolledBack : ExitCode.restoreFailed);
    }
    await record("ok", resolved);
    process.stdout.write(
      `deployed service1 ${resolved.services.service1.version} (min ${resolved.services.service1.replicas} replicas), service2 ${resolved.services.service2.version} with ${target} to namespace ${kube.namespace}${context ? ` (context ${context})` : ""} in ${((performance.now() - started) / 1000).toFixed(1)}s\n`,
    );
  } finally {
    lock.unlock();
  }
}

/** The history of a Kubernetes target: the CLI's own record for the context and namespace. */
export function kubeHistory(ctx: Context, target: KubeTarget, kube: KubeSettings): History {
  return new History(kubeStateDir(ctx.stateDir, target, kube));
}

/** What the cluster itself records (`kubectl rollout history`, `helm history`); never throws. */
export async function clusterHistory(ctx: Context, target: KubeTarget, kube: KubeSettings): Promise<string> {
  try {
    const tools = await findTools(target);
    await requireCluster(tools.kubectl, kube);
    return await driver(target, tools, kube, ctx).clusterHistory();
  } catch (error) {
    return `(cluster history unavailable: ${errorText(error).split("\n")[0]})`;
  }
}

export interface KubeStatus {
  target: KubeTarget;
  namespace: string;
  context: string | null;
  services: Record<ServiceName, ServiceStatus>;
}

export async function kubeStatus(ctx: Context, target: KubeTarget, kube: KubeSettings): Promise<KubeStatus> {
  const tools = await findTools(target);
  await requireCluster(tools.kubectl, kube);
  const now = await deployments(tools.kubectl, kube);
  const last = (await kubeHistory(ctx, target, kube).read()).find(
    (e) => e.result === "ok" || e.result === "rolled-back",
  );
  const services = {} as KubeStatus["services"];
  for (const service of SERVICES) {
    const d = now[service];
    const known = last ? stateFromEntry(last, service) : null;
    const image = d?.image ?? null;
    const matches = known !== null && image !== null && (image === known.image || image.startsWith(`${known.image}@`));
    services[service] = {
      version: matches ? known.version : image ? (/:([^:@/]+)(@|$)/.exec(image)?.[1] ?? null) : null,
      image,
      digest: matches ? known.digest : (image?.split("@")[1] ?? null),
      replicas: d?.ready ?? 0,
      health: !d
        ? "down"
        : d.ready >= d.desired && d.updated >= d.desired && d.desired > 0
          ? "healthy"
          : d.ready === 0
            ? "unavailable"
            : `degraded (${d.ready}/${d.desired} ready)`,
      url: null,
    };
  }
  return { target, namespace: kube.namespace, context: kube.context, services };
}

/**
 * `rollback --target=k8s|helm`: with CLI history, the previous good state (or the one running
 * `--to`) is deployed again through `up`'s path; without history (deployed by other means),
 * `kubectl rollout undo` / `helm rollback` to the previous revision, then the gate.
 */
export async function kubeRollback(
  ctx: Context,
  target: KubeTarget,
  kube: KubeSettings,
  opts: {
    service?: string | undefined;
    to?: string | undefined;
    healthTimeout?: string | undefined;
    lockWait?: string | undefined;
    forceUnlock: boolean;
  },
): Promise<void> {
  const services = servicesFromFlag(opts.service);
  let toVersion: string | undefined;
  if (opts.to !== undefined) {
    const spec = parseVersion(opts.to);
    if (!spec) throw new UsageError(`--to=${JSON.stringify(opts.to)} is not a version; use dev or a tag such as 1.2.3`);
    toVersion = versionLabel(spec);
  }
  let timeoutMs = DEFAULT_HEALTH_TIMEOUT_MS;
  if (opts.healthTimeout !== undefined) {
    const ms = parseDuration(opts.healthTimeout);
    if (ms === null || ms < 1000)
      throw new UsageError(`--health_timeout=${JSON.stringify(opts.healthTimeout)} is not allowed; use e.g. 30s`);
    timeoutMs = ms;
  }
  const entries = (await kubeHistory(ctx, target, kube).read()).filter(
    (e) => e.result === "ok" || e.result === "rolled-back",
  );
  const current = entries[0];
  if (!current) {
    if (toVersion !== undefined) {
      throw new DeployError(
        `no deploy with --target=${target} to namespace ${kube.namespace} is recorded, so --to=${toVersion} cannot be found`,
        ExitCode.failed,
        "deploy it with `bun deploy.ts up --target=... --version_S=V` instead",
      );
    }
    const tools = await findTools(target);
    await requireCluster(tools.kubectl, kube);
    ctx.progress.note("no deploy recorded by this CLI; using the cluster's own previous revision");
    const d = driver(target, tools, kube, ctx);
    try {
      await d.undo(services, timeoutMs);
    } catch (error) {
      throw new DeployError(`rollback failed: ${errorText(error)}`, ExitCode.restoreFailed);
    }
    process.stdout.write(
      `rolled back ${services.join(", ")} to the previous revision in namespace ${kube.namespace}\n`,
    );
    return;
  }
  const next: Record<ServiceName, ServiceState> = {
    service1: stateFromEntry(current, "service1"),
    service2: stateFromEntry(current, "service2"),
  };
  for (const service of services) {
    const found = entries.find((e) => {
      const s = stateFromEntry(e, service);
      return toVersion !== undefined ? s.version === toVersion : serviceChanged(next[service], s);
    });
    if (!found) {
      if (opts.service !== undefined || toVersion !== undefined) {
        throw new DeployError(
          toVersion !== undefined
            ? `${service} never ran version ${toVersion} successfully with --target=${target} in namespace ${kube.namespace}`
            : `${service} has no earlier good state to go back to`,
          ExitCode.failed,
          `see \`bun deploy.ts history --target=${target}\` for what ran`,
        );
      }
      continue;
    }
    next[service] = stateFromEntry(found, service);
  }
  const plan: Plan = {
    target,
    kube,
    project: ctx.project,
    port: 0,
    gate: { timeoutMs },
    services: {
      service1: { ...next.service1, name: "service1", source: { kind: "pinned" } },
      service2: { ...next.service2, name: "service2", source: { kind: "pinned" } },
    },
  };
  await kubeUp(plan, ctx, { action: "rollback", lockWait: opts.lockWait, forceUnlock: opts.forceUnlock });
}
