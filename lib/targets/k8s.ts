/**
 * Over 250 lines on purpose: the one base of both Kubernetes drivers, so neither repeats it.
 *
 * What the two Kubernetes targets share (their drivers in ./kubectl.ts and ./helm.ts differ only
 * in how they apply, gate, restore and undo): the plan → render input mapping, one checked render
 * before anything is applied, the "is a cluster reachable" check, images for local clusters,
 * status from the Deployments, and the end-to-end request through `kubectl port-forward`.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { judgeProbe, verifyEndToEnd } from "../deploy/gate";
import type { LastGood } from "../deploy/history";
import type { StepRecord } from "../deploy/journal";
import {
  type K8sSettings,
  type K8sTargetKind,
  type Plan,
  type ServicePlan,
  type ServiceState,
  type ServiceStatus,
  stateOf,
} from "../deploy/plan";
import { DeployError, ExitCode, errorText, GateFailed, lastLines } from "../errors";
import { run, runChecked } from "../exec";
import { requireEngine } from "../images/docker";
import { resolveImage } from "../images/resolve";
import { renderChecked } from "../k8s/checked";
import { type Rendered, resolveInput } from "../k8s/render";
import { findHelm, findKubectl, onDownload } from "../k8s/tools";
import { perService, SERVICES, type ServiceName } from "../services";
import { argv, k8sStateDir, loaderFor, loadImagesArgv, servingPods } from "./k8s-argv";
import { renderInputFor } from "./k8s-input";
import { K8sRollout, type K8sSteps } from "./k8s-rollout";
import type { DryRun, Rollout, StatusReport, StepContext, Target, TargetContext } from "./target";

export interface Tools {
  kubectl: string;
  helm: string;
}

/** A Deployment as `kubectl get deployment -o json` shows it. */
export interface DeploymentInfo {
  name: ServiceName;
  revision: number | null;
  image: string | null;
  desired: number;
  ready: number;
  updated: number;
  available: number;
}

interface DeploymentJson {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { replicas?: number; template?: { spec?: { containers?: { image?: string }[] } } };
  status?: { readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number };
}

/** Parses `kubectl get deployment ... -o json` (a List, or one object, or nothing). */
export function parseDeployments(json: string): Partial<Record<ServiceName, DeploymentInfo>> {
  const result: Partial<Record<ServiceName, DeploymentInfo>> = {};
  if (json.trim() === "") return result;
  const parsed = JSON.parse(json) as { items?: DeploymentJson[] } & DeploymentJson;
  for (const d of parsed.items ?? [parsed]) {
    const name = d.metadata?.name;
    if (name !== "service1" && name !== "service2") continue;
    const revision = Number(d.metadata?.annotations?.["deployment.kubernetes.io/revision"]);
    result[name] = {
      name,
      revision: Number.isInteger(revision) && revision > 0 ? revision : null,
      image: d.spec?.template?.spec?.containers?.[0]?.image ?? null,
      desired: d.spec?.replicas ?? d.status?.replicas ?? 0,
      ready: d.status?.readyReplicas ?? 0,
      updated: d.status?.updatedReplicas ?? 0,
      available: d.status?.availableReplicas ?? 0,
    };
  }
  return result;
}

export abstract class K8sTarget<Snapshot> implements Target {
  abstract readonly kind: K8sTargetKind;
  private tools: Tools | undefined;
  /** The context a cluster answered for (the named one, or kubectl's current one). */
  protected context = "";
  private rendered: Rendered | undefined;

  constructor(
    protected readonly ctx: TargetContext,
    protected readonly k8s: K8sSettings,
  ) {
    // A first --target=k8s|helm run downloads helm and kubectl: say so first, among the progress lines.
    onDownload((line) => ctx.progress.note(line));
  }

  get stateDir(): string {
    return k8sStateDir(this.ctx.stateDir, this.kind, this.k8s);
  }

  get historyFields() {
    return { target: this.kind, context: this.context || null, namespace: this.k8s.namespace, port: 0 };
  }

  /** The platform's revisions before a rollout, and how to go back to them. */
  protected abstract snapshot(): Promise<Snapshot>;
  protected abstract apply(rendered: Rendered, timeoutMs: number): Promise<void>;
  /** The end-to-end half of the gate: a request through service2 (port-forward, or helm test). */
  protected abstract verifyChain(timeoutMs: number): Promise<void>;
  protected abstract restoreTo(before: Snapshot, timeoutMs: number): Promise<string>;
  protected abstract revisions(): Promise<string>;
  protected abstract remove(): Promise<void>;
  /** The platform's own previous revision of `services`, then the gate. */
  protected abstract undoRevisions(services: readonly ServiceName[], timeoutMs: number): Promise<void>;

  /** Rollback without history of ours: exit 1 while the cluster cannot be reached, 4 once undoing failed. */
  readonly undo = async (services: readonly ServiceName[], timeoutMs: number): Promise<void> => {
    await this.requireCluster();
    try {
      await this.undoRevisions(services, timeoutMs);
    } catch (error) {
      throw new DeployError(`rollback failed: ${errorText(error)}`, ExitCode.restoreFailed);
    }
  };

  private get how() {
    return this.kind === "k8s" ? ("raw" as const) : ("helm" as const);
  }

  protected async found(): Promise<Tools> {
    this.tools ??= await findKubectl()
      .then(async (kubectl) => ({ kubectl, helm: this.kind === "helm" ? await findHelm() : "helm" }))
      .catch((error: unknown) => {
        throw error instanceof DeployError ? error : new DeployError(errorText(error));
      });
    return this.tools;
  }

  /** The manifest as `kubectl apply -f` takes it: the header and the diff are YAML comments. */
  async dryRun(plan: Plan, diff: string): Promise<DryRun> {
    const input = renderInputFor(plan, this.k8s);
    const rendered = await renderChecked(this.how, input);
    const releases = rendered.releases.map((r) => ({ release: r.release, chart: r.chart, values: r.values }));
    return {
      text: [
        `# timekit ${this.kind} dry run: namespace ${this.k8s.namespace}, overlay ${this.k8s.overlay}, ${rendered.objects.length} objects; schema and policy checks passed; nothing applied`,
        ...diff.split("\n").map((line) => `# ${line}`.trimEnd()),
        rendered.manifest,
      ].join("\n"),
      json: { render: input, ...(releases.length ? { releases } : {}), objects: rendered.objects.length },
    };
  }

  async preflight(plan: Plan): Promise<void> {
    resolveInput(renderInputFor(plan, this.k8s));
    await this.found();
    // Render and check what was asked for before talking to any cluster.
    await this.ctx.progress.step(`render ${this.kind} manifests; schema and policy checks`, () =>
      renderChecked(this.how, renderInputFor(plan, this.k8s)),
    );
    await this.ctx.progress.step("a Kubernetes cluster answers", () => this.requireCluster());
    this.ctx.progress.note(`context ${this.context || "(current)"}, namespace ${this.k8s.namespace}`);
  }

  /**
   * Fails fast (exit 1) when no cluster answers for the context: before images are loaded or
   * anything is applied. The message says which context and how to fix it.
   */
  protected async requireCluster(): Promise<void> {
    const { kubectl } = await this.found();
    let context = this.k8s.context;
    if (!context) {
      const current = await run([kubectl, ...argv.currentContext()], { timeoutMs: 10_000 });
      context = current.exitCode === 0 ? current.stdout.trim() : null;
    }
    const out = await run([kubectl, ...argv.reachable(this.k8s)], { timeoutMs: 20_000 });
    if (out.exitCode !== 0) {
      throw new DeployError(
        `no Kubernetes cluster reachable through ${context ? `context "${context}"` : "the current kubeconfig (no current context)"}: ${lastLines(out, 1).join("")}`,
        ExitCode.failed,
        "start a cluster (kind create cluster, minikube start, Docker Desktop) and pass --context=NAME from `kubectl config get-contexts`, or set KUBECONFIG; --dry-run needs no cluster",
      );
    }
    this.context = context ?? "";
  }

  /** Images the cluster must find: resolved in the local engine, then loaded into kind/minikube. */
  async resolveImages(plan: Plan): Promise<Plan> {
    const { progress } = this.ctx;
    const loader = loaderFor(this.k8s.loadImages, this.context || this.k8s.context);
    const services = { ...plan.services };
    // A registry image (or one pinned by registry digest) is pulled by the cluster itself.
    const fromRegistry = (s: ServicePlan) =>
      s.source.kind === "registry" || (s.source.kind === "pinned" && s.image.includes("@"));
    const local = SERVICES.filter((s) => loader !== null || !fromRegistry(plan.services[s]));
    if (local.length > 0) {
      await progress.step("check Docker engine (images come from it)", () => requireEngine());
      for (const service of local) {
        const s = plan.services[service];
        services[service] = await progress.step(
          `${service} ${s.version}: ${s.source.kind === "build" ? "build" : "resolve"} image`,
          () => resolveImage(s, (line) => progress.note(line)),
        );
      }
      if (loader) {
        const images = SERVICES.map((s) => services[s].image);
        const command = loadImagesArgv(loader, images);
        await progress.step(`load images into ${loader.tool}: ${images.join(" ")}`, () =>
          runChecked(command, { what: command.slice(0, 3).join(" "), timeoutMs: 600_000 }),
        );
      } else if (this.k8s.overlay !== "docker-desktop") {
        progress.note(
          "images are in the local Docker engine only; the cluster must see them (Docker Desktop) or pass --load_images=kind|minikube",
        );
      }
    }
    const resolved = { ...plan, services };
    this.rendered = await progress.step("render with the resolved images; schema and policy checks", () =>
      renderChecked(this.how, renderInputFor(resolved, this.k8s)),
    );
    return resolved;
  }

  async steps(): Promise<ServiceName[][]> {
    return [[...SERVICES]];
  }

  rollout(plan: Plan, _step: ServiceName[], context: StepContext, previous: LastGood): Rollout {
    const record: StepRecord = {
      services: [...SERVICES],
      phase: "start",
      previous: perService((s) => previous.states[s]),
      target: perService((s) => stateOf(plan.services[s])),
      port: { previous: 0, target: 0 },
      oldContainers: [],
      canary: null,
    };
    return new K8sRollout(record, this.stepsFor(context.timeoutMs), true);
  }

  resume(record: StepRecord, context: StepContext): Rollout {
    return new K8sRollout(record, this.stepsFor(context.timeoutMs), false);
  }

  private stepsFor(timeoutMs: number): K8sSteps<Snapshot> {
    return {
      snapshot: () => this.snapshot(),
      apply: async () => {
        if (!this.rendered) throw new Error("resolveImages renders before a rollout");
        await this.apply(this.rendered, timeoutMs);
      },
      waitForRollouts: () => this.waitForRollouts(timeoutMs),
      probePods: () => this.probePods(timeoutMs),
      verifyChain: () => this.verifyChain(timeoutMs),
      restoreTo: (before) => this.restoreTo(before, timeoutMs),
    };
  }

  /** The whole gate: both rollouts, every pod's own route, then the request through service2. */
  protected async gate(timeoutMs: number): Promise<void> {
    await this.waitForRollouts(timeoutMs);
    await this.probePods(timeoutMs);
    await this.verifyChain(timeoutMs);
  }

  /**
   * `kubectl exec <pod> -- service --probe=PATH` in every running, non-terminating pod of both
   * services: each answers its real route by itself (service2's through to service1).
   */
  protected async probePods(timeoutMs: number): Promise<void> {
    const { kubectl } = await this.found();
    for (const service of SERVICES) {
      const list = await runChecked([kubectl, ...argv.pods(this.k8s, service)], {
        what: `kubectl get pods of ${service}`,
        timeoutMs: 30_000,
      });
      const pods = servingPods(list.stdout);
      if (pods.length === 0) throw new GateFailed(`no ready pod of ${service} to probe`);
      for (const pod of pods) {
        const out = await run([kubectl, ...argv.execProbe(this.k8s, pod, service)], {
          timeoutMs: Math.min(timeoutMs, 30_000),
        });
        const verdict = judgeProbe(service, out);
        if (verdict.ok === "unsupported") {
          this.ctx.progress.warn(`${service}: ${verdict.detail}; its route is checked through service2 only`);
          break;
        }
        if (verdict.ok !== true) throw new GateFailed(`pod ${pod}: ${verdict.detail}`);
      }
    }
  }

  async summary(state: Record<ServiceName, ServiceState>): Promise<string> {
    return `service1 ${state.service1.version} (min ${state.service1.replicas} replicas), service2 ${state.service2.version} with ${this.kind} to namespace ${this.k8s.namespace}${this.context ? ` (context ${this.context})` : ""}`;
  }

  protected async deployments(): Promise<Partial<Record<ServiceName, DeploymentInfo>>> {
    const { kubectl } = await this.found();
    const out = await runChecked([kubectl, ...argv.getDeployments(this.k8s)], {
      what: "kubectl get deployment",
      timeoutMs: 30_000,
    });
    return parseDeployments(out.stdout);
  }

  async status(lastGood: LastGood): Promise<StatusReport> {
    await this.requireCluster();
    const now = await this.deployments();
    const services = perService((service): ServiceStatus => {
      const d = now[service];
      const known = lastGood.states[service];
      const image = d?.image ?? null;
      const matches =
        known !== null && image !== null && (image === known.image || image.startsWith(`${known.image}@`));
      return {
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
    });
    return { target: this.kind, namespace: this.k8s.namespace, context: this.k8s.context, services };
  }

  async platformHistory(): Promise<string> {
    try {
      await this.requireCluster();
      return await this.revisions();
    } catch (error) {
      return `(cluster history unavailable: ${errorText(error).split("\n")[0]})`;
    }
  }

  async down(): Promise<void> {
    await this.requireCluster();
    await this.remove();
  }

  /** Runs `fn` with a fresh temporary directory for the files kubectl or helm read, removed after. */
  protected async withScratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), `timekit-${this.kind}-`));
    try {
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** `kubectl rollout status` of both Deployments, one progress step each: the first half of either gate. */
  protected async waitForRollouts(timeoutMs: number): Promise<void> {
    const { kubectl } = await this.found();
    for (const service of SERVICES) {
      await this.ctx.progress.step(`${service}: kubectl rollout status`, () =>
        runChecked([kubectl, ...argv.rolloutStatus(this.k8s, service, timeoutMs)], {
          what: `rollout of ${service}`,
          timeoutMs: timeoutMs + 60_000,
        }),
      );
    }
  }

  /**
   * The end-to-end gate: `kubectl port-forward service/service2` on a free loopback port, then
   * GET /v1/format until it answers 200 with an epochMs (service2 had to reach service1 through the
   * cluster's Service and NetworkPolicy). A forward that dies (a pod replaced) is started again.
   */
  protected async requestThroughService2(timeoutMs: number): Promise<void> {
    const { kubectl } = await this.found();
    let forward: { url: Promise<string | null>; stop: AbortController; done: Promise<unknown> } | null = null;
    const start = () => {
      const stop = new AbortController();
      const { promise: url, resolve } = Promise.withResolvers<string | null>();
      const done = run([kubectl, ...argv.portForward(this.k8s)], {
        signal: stop.signal,
        onLine: (line) => {
          const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(line);
          if (match) resolve(`http://127.0.0.1:${match[1]}`);
        },
      }).finally(() => {
        resolve(null);
        forward = null;
      });
      return { url, stop, done };
    };
    try {
      await verifyEndToEnd(async () => {
        forward ??= start();
        const url = await Promise.race([forward.url, Bun.sleep(15_000).then(() => null)]);
        return url ?? { unreachable: "kubectl port-forward did not start" };
      }, timeoutMs);
    } finally {
      const last = forward as { stop: AbortController; done: Promise<unknown> } | null;
      last?.stop.abort();
      await last?.done;
    }
  }
}
