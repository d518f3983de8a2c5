/**
 * The Kubernetes targets' pure pieces, table-tested: the command lines the live path runs (they
 * prove the commands' shape, not that a cluster accepts them; the kind workflow runs them for
 * real), image loading, state directories, and reading kubectl's and helm's JSON.
 */
import { expect, test } from "bun:test";
import { targetFrom } from "../../lib/cli/flags";
import { latestRevision } from "../../lib/targets/helm";
import { parseDeployments } from "../../lib/targets/k8s";
import { argv, k8sStateDir, loaderFor, loadImagesArgv, servingPods } from "../../lib/targets/k8s-argv";

test("targetFrom: defaults and TIMEKIT_TARGET", () => {
  const problems: string[] = [];
  const io = (env: Record<string, string>) => ({ stdout() {}, stderr() {}, env, tty: false });
  expect(targetFrom({}, io({}), problems)).toMatchObject({ kind: "compose" });
  expect(targetFrom({}, io({ TIMEKIT_TARGET: "helm" }), problems)).toEqual({
    kind: "helm",
    k8s: { namespace: "timekit", context: null, overlay: "base", loadImages: "auto" },
  });
  expect(problems).toEqual([]);
});

const k8s = { namespace: "tk", context: "kind-timekit", overlay: "kind", loadImages: "auto" } as const;
const noContext = { ...k8s, context: null };
const release = { release: "service1" as const, chart: "/repo/charts/service1", namespace: "tk", values: {} };

test.each([
  ["apply", argv.apply(k8s, "/tmp/m.yaml"), "--context kind-timekit apply --filename /tmp/m.yaml"],
  ["apply, current context", argv.apply(noContext, "/tmp/m.yaml"), "apply --filename /tmp/m.yaml"],
  ["reachable", argv.reachable(k8s), "--context kind-timekit get --raw=/readyz --request-timeout=10s"],
  [
    "a service's pods (the selector both the manifests and the charts use)",
    argv.pods(k8s, "service2"),
    "--context kind-timekit --namespace tk get pods --selector=app.kubernetes.io/name=service2 --output=json",
  ],
  [
    "the probe of service1's real route inside one pod (no shell in the image)",
    argv.execProbe(k8s, "service1-7d9f-abcde", "service1"),
    "--context kind-timekit --namespace tk exec service1-7d9f-abcde --container service1 -- /usr/local/bin/service --probe=/v1/timestamp",
  ],
  [
    "the probe of service2's real route, which goes through to service1",
    argv.execProbe(noContext, "service2-1", "service2"),
    "--namespace tk exec service2-1 --container service2 -- /usr/local/bin/service --probe=/v1/format?pattern=yyyy-MM-dd",
  ],
  [
    "rollout status (timeout rounded up to seconds)",
    argv.rolloutStatus(k8s, "service1", 60_500),
    "--context kind-timekit --namespace tk rollout status deployment/service1 --timeout=61s",
  ],
  [
    "rollout undo to a revision",
    argv.rolloutUndo(k8s, "service2", 3),
    "--context kind-timekit --namespace tk rollout undo deployment/service2 --to-revision=3",
  ],
  [
    "rollout undo to the previous",
    argv.rolloutUndo(noContext, "service1"),
    "--namespace tk rollout undo deployment/service1",
  ],
  [
    "port-forward on a free loopback port",
    argv.portForward(k8s),
    "--context kind-timekit --namespace tk port-forward service/service2 --address=127.0.0.1 :8080",
  ],
  [
    "helm upgrade --install",
    argv.helmUpgrade(k8s, release, "/tmp/v.json", 120_000),
    "upgrade service1 /repo/charts/service1 --install --kube-context kind-timekit --namespace tk --values /tmp/v.json --wait --timeout=120s",
  ],
  ["helm test", argv.helmTest(noContext, "service2", 60_000), "test service2 --namespace tk --logs --timeout=60s"],
  [
    "helm rollback",
    argv.helmRollback(k8s, "service1", 2, 60_000),
    "rollback service1 2 --kube-context kind-timekit --namespace tk --wait --timeout=60s",
  ],
  ["helm uninstall", argv.helmUninstall(noContext, "service2"), "uninstall service2 --namespace tk --wait"],
  [
    "delete every rendered object (down), the namespace kept",
    argv.deleteAll(noContext),
    "--namespace tk delete deployment,service,configmap,networkpolicy,horizontalpodautoscaler,poddisruptionbudget,serviceaccount,ingress --selector=app.kubernetes.io/part-of=timekit --ignore-not-found --wait=true",
  ],
  [
    "helm history",
    argv.helmHistory(k8s, "service1"),
    "history service1 --kube-context kind-timekit --namespace tk --output=json",
  ],
])("argv: %s", (_name, actual, expected) => {
  expect(actual.join(" ")).toBe(expected);
});

test.each([
  ["auto, kind context", "auto", "kind-dev", "kind load docker-image --name dev a:1 b:1"],
  ["auto, minikube context", "auto", "minikube", "minikube image load --profile minikube a:1 b:1"],
  ["auto, other context: no loading", "auto", "docker-desktop", null],
  ["auto, current context unknown", "auto", null, null],
  ["none wins over a kind context", "none", "kind-dev", null],
  ["kind named, default cluster", "kind", "my-ctx", "kind load docker-image --name kind a:1 b:1"],
  [
    "minikube named, profile from the context",
    "minikube",
    "dev-profile",
    "minikube image load --profile dev-profile a:1 b:1",
  ],
] as const)("image loading: %s", (_name, mode, context, expected) => {
  const loader = loaderFor(mode, context);
  expect(loader ? loadImagesArgv(loader, ["a:1", "b:1"]).join(" ") : null).toBe(expected);
});

test("k8sStateDir keeps targets, contexts and namespaces apart and file-name safe", () => {
  const a = k8sStateDir("/s", "k8s", { context: "arn:aws:eks:eu/x", namespace: "tk" });
  expect(a).toBe("/s/k8s_arn_aws_eks_eu_x_tk");
  expect(k8sStateDir("/s", "helm", { context: null, namespace: "tk" })).toBe("/s/helm_current-context_tk");
});

test("parseDeployments reads kubectl's List output: revision, image, replica counts", () => {
  const list = {
    kind: "List",
    items: [
      {
        metadata: { name: "service1", annotations: { "deployment.kubernetes.io/revision": "3" } },
        spec: { replicas: 4, template: { spec: { containers: [{ image: "timekit/service1:1.2.3" }] } } },
        status: { readyReplicas: 3, updatedReplicas: 4, availableReplicas: 3 },
      },
      { metadata: { name: "other" } },
    ],
  };
  expect(parseDeployments(JSON.stringify(list))).toEqual({
    service1: {
      name: "service1",
      revision: 3,
      image: "timekit/service1:1.2.3",
      desired: 4,
      ready: 3,
      updated: 4,
      available: 3,
    },
  });
  expect(parseDeployments("")).toEqual({});
});

test("latestRevision picks the newest helm revision, null for none", () => {
  const list = [1, 3, 2].map((revision) => ({ revision, status: "deployed" }));
  expect(latestRevision(JSON.stringify(list))).toBe(3);
  expect(latestRevision("[]")).toBeNull();
});

test("servingPods: only pods that run, are ready and are not terminating get probed", () => {
  const pod = (name: string, phase: string, ready: boolean[], terminating = false) => ({
    metadata: { name, ...(terminating ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    status: { phase, containerStatuses: ready.map((r) => ({ ready: r })) },
  });
  const list = {
    items: [
      pod("new-1", "Running", [true]),
      pod("new-2", "Running", [true]),
      pod("starting", "Running", [false]),
      pod("old", "Running", [true], true),
      pod("pending", "Pending", []),
    ],
  };
  expect(servingPods(JSON.stringify(list))).toEqual(["new-1", "new-2"]);
  expect(servingPods("")).toEqual([]);
});
