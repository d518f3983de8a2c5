/**
 * `--target=k8s`: the kustomize render applied with `kubectl apply`, gated on `kubectl rollout
 * status` for both Deployments and a request through service2 (kubectl port-forward), restored
 * with `kubectl rollout undo --to-revision` (or removed, when it did not exist before).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeployError } from "../errors";
import { SERVICES, type ServiceName } from "../params";
import type { Progress } from "../progress";
import {
  argv,
  type KubeRender,
  type KubeSettings,
  requestThroughService2,
  runTool,
  waitForRollouts,
} from "./kube-shared";

/** What a Deployment looked like before a deploy touched it (null: it did not exist). */
export type Revisions = Record<ServiceName, number | null>;

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
  const items = parsed.items ?? [parsed];
  for (const d of items) {
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

export async function deployments(kubectl: string, kube: KubeSettings) {
  return parseDeployments(await runTool([kubectl, ...argv.getDeployments(kube)], "kubectl get deployment", 30_000));
}

export class K8sTarget {
  constructor(
    private readonly kubectl: string,
    private readonly kube: KubeSettings,
    private readonly progress: Progress,
  ) {}

  async snapshot(): Promise<Revisions> {
    const now = await deployments(this.kubectl, this.kube);
    return { service1: now.service1?.revision ?? null, service2: now.service2?.revision ?? null };
  }

  async apply(rendered: KubeRender): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), "timekit-k8s-"));
    try {
      const file = join(dir, "manifest.yaml");
      await writeFile(file, rendered.manifest);
      await this.progress.step(
        `kubectl apply (${rendered.objects.length} objects, namespace ${this.kube.namespace})`,
        () => runTool([this.kubectl, ...argv.apply(this.kube, file)], "kubectl apply"),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** rollout status of both Deployments, then a request through service2. */
  async gate(timeoutMs: number): Promise<void> {
    await waitForRollouts(this.progress, this.kubectl, this.kube, timeoutMs);
    await this.progress.step("verify a request through service2 reaches service1 (kubectl port-forward)", () =>
      requestThroughService2(this.kubectl, this.kube, timeoutMs),
    );
  }

  /** Puts each Deployment back at its revision before the deploy; removes ones that were new. */
  async restore(before: Revisions, timeoutMs: number): Promise<string> {
    const after = await this.snapshot();
    const done: string[] = [];
    for (const service of SERVICES) {
      const was = before[service];
      if (was === null) {
        if (after[service] === null) continue;
        await this.progress.step(`${service}: no earlier revision, deleting the Deployment`, () =>
          runTool([this.kubectl, ...argv.deleteDeployment(this.kube, service)], `delete deployment/${service}`),
        );
        done.push(`${service} removed (it had no earlier revision)`);
      } else if (after[service] !== was) {
        await this.progress.step(`${service}: kubectl rollout undo --to-revision=${was}`, () =>
          runTool([this.kubectl, ...argv.rolloutUndo(this.kube, service, was)], `rollout undo of ${service}`),
        );
        done.push(`${service} back at revision ${was}`);
      }
    }
    if (before.service1 !== null && before.service2 !== null) await this.gate(timeoutMs);
    return done.length ? done.join(", ") : "nothing had changed";
  }

  /** `kubectl rollout undo` of the given services (to the previous revision), then the gate. */
  async undo(services: readonly ServiceName[], timeoutMs: number): Promise<void> {
    for (const service of services) {
      await this.progress.step(`${service}: kubectl rollout undo`, () =>
        runTool([this.kubectl, ...argv.rolloutUndo(this.kube, service)], `rollout undo of ${service}`),
      );
    }
    await this.gate(timeoutMs);
  }

  async clusterHistory(): Promise<string> {
    const parts: string[] = [];
    for (const service of SERVICES) {
      const text = await runTool(
        [this.kubectl, ...argv.rolloutHistory(this.kube, service)],
        "kubectl rollout history",
      ).catch((error: unknown) => (error instanceof DeployError ? `(${error.message.split("\n")[0]})\n` : ""));
      parts.push(`deployment/${service} (kubectl rollout history):\n${text.trimEnd()}`);
    }
    return parts.join("\n");
  }
}
