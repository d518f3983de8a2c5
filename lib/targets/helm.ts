/**
 * `--target=helm`: one release per service (`helm upgrade --install S charts/S --wait`), gated on
 * `kubectl rollout status` and `helm test` (the charts' test pods call each service through its
 * Service from inside the namespace; service2's test needs service1, so it proves the chain),
 * restored with `helm rollback S <revision before>` (or `helm uninstall` for a first install).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DeployError, errorText } from "../errors";
import { run, runChecked } from "../exec";
import { namespaceManifest, type Rendered } from "../k8s/render";
import { SERVICES, type ServiceName } from "../services";
import { K8sTarget } from "./k8s";
import { argv } from "./k8s-argv";

/** Each release's newest revision before a rollout (null: not installed). */
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

export class HelmTarget extends K8sTarget<Revisions> {
  readonly kind = "helm";

  private async helm(args: string[], what: string): Promise<string> {
    const { helm } = await this.found();
    return (await runChecked([helm, ...args], { what, timeoutMs: 900_000 })).stdout;
  }

  private async history(release: ServiceName): Promise<HelmRevision[]> {
    const { helm } = await this.found();
    const out = await run([helm, ...argv.helmHistory(this.k8s, release)], { timeoutMs: 30_000 });
    if (out.exitCode === 0) return JSON.parse(out.stdout || "[]") as HelmRevision[];
    if (/not found/i.test(out.stderr)) return [];
    throw new DeployError(`helm history ${release} failed: ${out.stderr.trim()}`);
  }

  protected async snapshot(): Promise<Revisions> {
    const revisions = {} as Revisions;
    for (const release of SERVICES) revisions[release] = latestRevision(JSON.stringify(await this.history(release)));
    return revisions;
  }

  protected async apply(rendered: Rendered, timeoutMs: number): Promise<void> {
    const { kubectl } = await this.found();
    await this.withScratch(async (dir) => {
      const nsFile = join(dir, "namespace.yaml");
      await writeFile(nsFile, namespaceManifest(this.k8s.namespace));
      await this.ctx.progress.step(`namespace ${this.k8s.namespace} (restricted Pod Security)`, () =>
        runChecked([kubectl, ...argv.apply(this.k8s, nsFile)], {
          what: "kubectl apply namespace",
          timeoutMs: 120_000,
        }),
      );
      for (const release of rendered.releases) {
        const file = join(dir, `${release.release}.values.json`);
        await writeFile(file, JSON.stringify(release.values));
        await this.ctx.progress.step(`helm upgrade --install ${release.release}`, () =>
          this.helm(argv.helmUpgrade(this.k8s, release, file, timeoutMs), `helm upgrade ${release.release}`),
        );
      }
    });
  }

  /** The charts' test pods: each calls its service through its Service; service2's needs service1. */
  protected async verifyChain(timeoutMs: number): Promise<void> {
    for (const release of SERVICES) {
      await this.ctx.progress.step(
        `helm test ${release}${release === "service2" ? " (a request through service2 to service1)" : ""}`,
        () => this.helm(argv.helmTest(this.k8s, release, timeoutMs), `helm test ${release}`),
      );
    }
  }

  protected async restoreTo(before: Revisions, timeoutMs: number): Promise<string> {
    const after = await this.snapshot();
    const done: string[] = [];
    for (const release of SERVICES) {
      const was = before[release];
      if (was === null) {
        if (after[release] === null) continue;
        await this.ctx.progress.step(`helm uninstall ${release} (no earlier revision)`, () =>
          this.helm(argv.helmUninstall(this.k8s, release), `helm uninstall ${release}`),
        );
        done.push(`${release} uninstalled (no earlier revision)`);
      } else if (after[release] !== was) {
        await this.ctx.progress.step(`helm rollback ${release} ${was}`, () =>
          this.helm(argv.helmRollback(this.k8s, release, was, timeoutMs), `helm rollback ${release}`),
        );
        done.push(`${release} back at revision ${was}`);
      }
    }
    if (before.service1 !== null && before.service2 !== null) await this.gate(timeoutMs);
    return done.length ? done.join(", ") : "nothing had changed";
  }

  /** `helm rollback` of the given releases to their previous revision, then the gate. */
  protected async undoRevisions(services: readonly ServiceName[], timeoutMs: number): Promise<void> {
    for (const release of services) {
      const previous = (await this.history(release)).map((r) => r.revision).sort((a, b) => b - a)[1];
      if (previous === undefined)
        throw new DeployError(`helm release ${release} has no earlier revision to roll back to`);
      await this.ctx.progress.step(`helm rollback ${release} ${previous}`, () =>
        this.helm(argv.helmRollback(this.k8s, release, previous, timeoutMs), `helm rollback ${release}`),
      );
    }
    await this.gate(timeoutMs);
  }

  protected async revisions(): Promise<string> {
    const parts: string[] = [];
    for (const release of SERVICES) {
      const list = await this.history(release).catch((error: unknown) => errorText(error));
      parts.push(
        typeof list === "string"
          ? `release ${release}: ${list}`
          : `release ${release} (helm history):\n${list.map((r) => `  ${r.revision}  ${r.updated}  ${r.status}  ${r.chart}  ${r.description}`).join("\n") || "  (not installed)"}`,
      );
    }
    return parts.join("\n");
  }

  protected async remove(): Promise<void> {
    for (const release of SERVICES) {
      await this.ctx.progress.step(`helm uninstall ${release}`, () =>
        this.helm(argv.helmUninstall(this.k8s, release), `helm uninstall ${release}`),
      );
    }
  }
}
