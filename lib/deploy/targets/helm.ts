/**
 * `--target=helm`: one release per service (`helm upgrade --install S charts/S --wait`), gated on
 * `kubectl rollout status` and `helm test` (the charts' test pods call each service through its
 * Service from inside the namespace; service2's test needs service1, so it proves the chain),
 * restored with `helm rollback S <revision before>` (or `helm uninstall` for a first install).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../k8s/tools";
import { DeployError } from "../errors";
import { SERVICES, type ServiceName } from "../params";
import type { Progress } from "../progress";
import { argv, type KubeRender, type KubeSettings, namespaceManifest, runTool, waitForRollouts } from "./kube-shared";

export type Revisions = Record<ServiceName, number | null>;

export interface HelmRevision {
  revision: number;
  updated: string;
  status: string;
  chart: string;
  app_version: string;
  description: string;
}

/** The newest revision in `helm history -o json`; null for no releases. */
export function latestRevision(json: string): number | null {
  const list = JSON.parse(json || "[]") as HelmRevision[];
  return list.reduce<number | null>((max, r) => (max === null || r.revision > max ? r.revision : max), null);
}

export class HelmTarget {
  constructor(
    private readonly kubectl: string,
    private readonly helm: string,
    private readonly kube: KubeSettings,
    private readonly progress: Progress,
  ) {}

  async history(release: ServiceName): Promise<HelmRevision[]> {
    const out = await run([this.helm, ...argv.helmHistory(this.kube, release)], { timeoutMs: 30_000 });
    if (out.exitCode === 0) return JSON.parse(out.stdout || "[]") as HelmRevision[];
    if (/not found/i.test(out.stderr)) return [];
    throw new DeployError(`helm history ${release} failed: ${out.stderr.trim()}`);
  }

  async snapshot(): Promise<Revisions> {
    const revisions = {} as Revisions;
    for (const release of SERVICES) {
      revisions[release] = latestRevision(JSON.stringify(await this.history(release)));
    }
    return revisions;
  }

  async apply(rendered: KubeRender, timeoutMs: number): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), "timekit-helm-"));
    try {
      const nsFile = join(dir, "namespace.yaml");
      await writeFile(nsFile, namespaceManifest(this.kube.namespace));
      await this.progress.step(`namespace ${this.kube.namespace} (restricted Pod Security)`, () =>
        runTool([this.kubectl, ...argv.apply(this.kube, nsFile)], "kubectl apply namespace"),
      );
      for (const release of rendered.releases) {
        const file = join(dir, `${release.release}.values.json`);
        await writeFile(file, JSON.stringify(release.values));
        await this.progress.step(`helm upgrade --install ${release.release}`, () =>
          runTool(
            [this.helm, ...argv.helmUpgrade(this.kube, release, file, timeoutMs)],
            `helm upgrade ${release.release}`,
          ),
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async gate(timeoutMs: number): Promise<void> {
    await waitForRollouts(this.progress, this.kubectl, this.kube, timeoutMs);
    for (const release of SERVICES) {
      await this.progress.step(
        `helm test ${release}${release === "service2" ? " (a request through service2 to service1)" : ""}`,
        () => runTool([this.helm, ...argv.helmTest(this.kube, release, timeoutMs)], `helm test ${release}`),
      );
    }
  }

  async restore(before: Revisions, timeoutMs: number): Promise<string> {
    const after = await this.snapshot();
    const done: string[] = [];
    for (const release of SERVICES) {
      const was = before[release];
      if (was === null) {
        if (after[release] === null) continue;
        await this.progress.step(`helm uninstall ${release} (no earlier revision)`, () =>
          runTool([this.helm, ...argv.helmUninstall(this.kube, release)], `helm uninstall ${release}`),
        );
        done.push(`${release} uninstalled (no earlier revision)`);
      } else if (after[release] !== was) {
        await this.progress.step(`helm rollback ${release} ${was}`, () =>
          runTool([this.helm, ...argv.helmRollback(this.kube, release, was, timeoutMs)], `helm rollback ${release}`),
        );
        done.push(`${release} back at revision ${was}`);
      }
    }
    if (before.service1 !== null && before.service2 !== null) await this.gate(timeoutMs);
    return done.length ? done.join(", ") : "nothing had changed";
  }

  /** `helm rollback` of the given releases to their previous revision, then the gate. */
  async undo(services: readonly ServiceName[], timeoutMs: number): Promise<void> {
    for (const release of services) {
      const list = await this.history(release);
      const previous = list.map((r) => r.revision).sort((a, b) => b - a)[1];
      if (previous === undefined)
        throw new DeployError(`helm release ${release} has no earlier revision to roll back to`);
      await this.progress.step(`helm rollback ${release} ${previous}`, () =>
        runTool([this.helm, ...argv.helmRollback(this.kube, release, previous, timeoutMs)], `helm rollback ${release}`),
      );
    }
    await this.gate(timeoutMs);
  }

  async clusterHistory(): Promise<string> {
    const parts: string[] = [];
    for (const release of SERVICES) {
      const list = await this.history(release).catch((error: unknown) => (error as Error).message);
      parts.push(
        typeof list === "string"
          ? `release ${release}: ${list}`
          : `release ${release} (helm history):\n${list.map((r) => `  ${r.revision}  ${r.updated}  ${r.status}  ${r.chart}  ${r.description}`).join("\n") || "  (not installed)"}`,
      );
    }
    return parts.join("\n");
  }
}
