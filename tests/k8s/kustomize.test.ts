import { expect, test } from "bun:test";
import { join } from "node:path";
import { parse } from "yaml";
import { runChecked } from "../../lib/exec";
import { type K8sObject, parseManifests } from "../../lib/k8s/objects";
import { checkPolicy, formatViolations } from "../../lib/k8s/policy";
import { LOCAL_NODE_PORT, OVERLAYS } from "../../lib/k8s/render";
import { formatProblems, validateObjects } from "../../lib/k8s/validate";
import { K8S_DIR } from "../../lib/paths";
import { describeWith, RENDER_TIMEOUT_MS, tool } from "./support";

const dirOf = (overlay: string) => (overlay === "base" ? join(K8S_DIR, "base") : join(K8S_DIR, "overlays", overlay));

async function kustomize(overlay: string): Promise<K8sObject[]> {
  return parseManifests((await runChecked([tool("kubectl"), "kustomize", dirOf(overlay)])).stdout, overlay);
}

function service2(objects: K8sObject[]) {
  return objects.find((o) => o.kind === "Service" && o.metadata.name === "service2")?.spec as {
    type: string;
    ports: { nodePort?: number }[];
  };
}

describeWith(["kubectl"], "kustomize overlays", () => {
  for (const overlay of OVERLAYS) {
    test(
      `kubectl kustomize ${overlay === "base" ? "k8s/base" : `k8s/overlays/${overlay}`} renders valid objects that pass the policy`,
      async () => {
        const objects = await kustomize(overlay);
        const kinds = new Set(objects.map((o) => o.kind));
        for (const kind of [
          "Namespace",
          "ConfigMap",
          "Deployment",
          "Service",
          "NetworkPolicy",
          "PodDisruptionBudget",
        ]) {
          expect(kinds).toContain(kind);
        }
        expect(kinds).toContain("HorizontalPodAutoscaler");
        expect(formatProblems(await validateObjects(objects))).toBe("");
        expect(formatViolations(checkPolicy(objects))).toBe("");
      },
      RENDER_TIMEOUT_MS,
    );
  }

  test(
    "each local overlay exposes service2 the way its cluster can reach it",
    async () => {
      const [base, kind, minikube, desktop] = await Promise.all(OVERLAYS.map(kustomize));
      expect(service2(base as K8sObject[]).type).toBe("ClusterIP");
      for (const objects of [kind, minikube]) {
        expect(service2(objects as K8sObject[]).type).toBe("NodePort");
        expect(service2(objects as K8sObject[]).ports[0]?.nodePort).toBe(LOCAL_NODE_PORT);
      }
      expect(service2(desktop as K8sObject[]).type).toBe("LoadBalancer");
    },
    RENDER_TIMEOUT_MS,
  );

  test("both kind cluster configs publish the node port on loopback only; the CI one leaves the CNI to Calico", async () => {
    const read = async (file: string) => parse(await Bun.file(join(K8S_DIR, "overlays", "kind", file)).text());
    const [plain, calico] = await Promise.all([read("cluster.yaml"), read("cluster-calico.yaml")]);
    for (const cluster of [plain, calico]) {
      expect(cluster.nodes[0].extraPortMappings).toEqual([
        { containerPort: LOCAL_NODE_PORT, hostPort: LOCAL_NODE_PORT, listenAddress: "127.0.0.1", protocol: "TCP" },
      ]);
    }
    expect(calico.networking).toEqual({ disableDefaultCNI: true, podSubnet: "192.168.0.0/16" });
  });
});
