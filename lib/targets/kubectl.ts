/**
 * `--target=k8s`: the kustomize render applied with `kubectl apply`, gated on `kubectl rollout
 * status` for both Deployments and a request through service2 (kubectl port-forward), restored
 * with `kubectl rollout undo --to-revision` (or removed, when it did not exist before).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { errorText } from "../errors";
import { runChecked } from "../exec";
import type { Rendered } from "../k8s/render";
import { SERVICES, type ServiceName } from "../services";
import { K8sTarget } from "./k8s";
import { argv } from "./k8s-argv";

/** Each Deployment's revision before a rollout (null: it did not exist). */
export type Revisions = Record<ServiceName, number | null>;

export class KubectlTarget extends K8sTarget<Revisions> {
  readonly kind = "k8s";

  private async kubectl(args: string[], what: string, timeoutMs = 600_000): Promise<string> {
    const { kubectl } = await this.found();
    return (await runChecked([kubectl, ...args], { what, timeoutMs })).stdout;
  }

  protected async snapshot(): Promise<Revisions> {
    const now = await this.deployments();
    return { service1: now.service1?.revision ?? null, service2: now.service2?.revision ?? null };
  }

  protected async apply(rendered: Rendered): Promise<void> {
    await this.withScratch(async (dir) => {
      const file = join(dir, "manifest.yaml");
      await writeFile(file, rendered.manifest);
      await this.ctx.progress.step(
        `kubectl apply (${rendered.objects.length} objects, namespace ${this.k8s.namespace})`,
        () => this.kubectl(argv.apply(this.k8s, file), "kubectl apply"),
      );
    });
  }

  /** A request through service2 (kubectl port-forward). */
  protected async verifyChain(timeoutMs: number): Promise<void> {
    await this.ctx.progress.step("verify a request through service2 reaches service1 (kubectl port-forward)", () =>
      this.requestThroughService2(timeoutMs),
    );
  }

  /** Puts each Deployment back at its revision before the deploy; removes ones that were new. */
  protected async restoreTo(before: Revisions, timeoutMs: number): Promise<string> {
    const after = await this.snapshot();
    const done: string[] = [];
    for (const service of SERVICES) {
      const was = before[service];
      if (was === null) {
        if (after[service] === null) continue;
        await this.ctx.progress.step(`${service}: no earlier revision, deleting the Deployment`, () =>
          this.kubectl(argv.deleteDeployment(this.k8s, service), `delete deployment/${service}`),
        );
        done.push(`${service} removed (it had no earlier revision)`);
      } else if (after[service] !== was) {
        await this.ctx.progress.step(`${service}: kubectl rollout undo --to-revision=${was}`, () =>
          this.kubectl(argv.rolloutUndo(this.k8s, service, was), `rollout undo of ${service}`),
        );
        done.push(`${service} back at revision ${was}`);
      }
    }
    if (before.service1 !== null && before.service2 !== null) await this.gate(timeoutMs);
    return done.length ? done.join(", ") : "nothing had changed";
  }

  /** `kubectl rollout undo` of the given services (to the previous revision), then the gate. */
  protected async undoRevisions(services: readonly ServiceName[], timeoutMs: number): Promise<void> {
    for (const service of services) {
      await this.ctx.progress.step(`${service}: kubectl rollout undo`, () =>
        this.kubectl(argv.rolloutUndo(this.k8s, service), `rollout undo of ${service}`),
      );
    }
    await this.gate(timeoutMs);
  }

  protected async revisions(): Promise<string> {
    const parts: string[] = [];
    for (const service of SERVICES) {
      const text = await this.kubectl(argv.rolloutHistory(this.k8s, service), "kubectl rollout history").catch(
        (error: unknown) => `(${errorText(error).split("\n")[0]})\n`,
      );
      parts.push(`deployment/${service} (kubectl rollout history):\n${text.trimEnd()}`);
    }
    return parts.join("\n");
  }

  protected async remove(): Promise<void> {
    await this.ctx.progress.step(`delete timekit's objects in namespace ${this.k8s.namespace}`, () =>
      this.kubectl(argv.deleteAll(this.k8s), "kubectl delete"),
    );
  }
}
