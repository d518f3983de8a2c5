/**
 * `deploy.ts --target=k8s|helm` in-process, for everything that needs no cluster: --dry-run output
 * for given flags (checked again here with validateObjects and checkPolicy), bad flags (exit 2,
 * nothing rendered), and the live path without a cluster (exit 1 after the render and checks,
 * before anything is applied).
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type K8sObject, parseManifests } from "../../lib/k8s/objects";
import { checkPolicy, formatViolations } from "../../lib/k8s/policy";
import { formatProblems, validateObjects } from "../../lib/k8s/validate";
import { k8sStateDir } from "../../lib/targets/k8s-argv";
import { type CliResult as Result, deploy as run } from "../cli/support";
import { describeWith } from "../k8s/support";

/** Each dry run renders and validates: seconds, more on a busy machine. */
const SLOW = 180_000;
const stateDir = mkdtempSync(join(tmpdir(), "timekit-k8s-target-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

const deploy = (args: string[]) => run(args, { TIMEKIT_STATE_DIR: stateDir });

const FLAGS = [
  "--version_service1=v1.2.3",
  "--version_service2=1.0",
  "--additional_param_1=4",
  "--log_level_service1=debug",
  "--upstream_retries=4",
  "--drain_timeout_service2=3s",
  "--namespace=tk-test",
];

function find(objects: K8sObject[], kind: string, name: string): Record<string, unknown> & K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return found as Record<string, unknown> & K8sObject;
}

// biome-ignore lint/suspicious/noExplicitAny: reading deep fields of rendered objects
const deep = (o: unknown) => o as any;

function images(objects: K8sObject[]): string[] {
  return objects.flatMap((o) => {
    const spec = o.kind === "Pod" ? deep(o).spec : deep(o).spec?.template?.spec;
    return (spec?.containers ?? []).map((c: { image: string }) => c.image);
  });
}

/** The printed manifest: one comment line, then YAML documents. */
function manifestOf(result: Result, target: string): K8sObject[] {
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const [first, ...rest] = result.stdout.split("\n");
  expect(first).toMatch(new RegExp(`^# timekit ${target} dry run: namespace tk-test, .*nothing applied$`));
  return parseManifests(rest.join("\n"), `${target} dry run`);
}

async function expectValidAndPolicyClean(objects: K8sObject[]) {
  const problems = await validateObjects(objects);
  expect(formatProblems(problems)).toBe("");
  expect(formatViolations(checkPolicy(objects))).toBe("");
}

describeWith(["kubectl", "helm"], "deploy.ts --target=k8s|helm --dry-run", () => {
  // Started together: each dry run renders and checks (several seconds), mostly in kubectl and helm.
  const runs = {
    k8s: deploy(["--target=k8s", "--dry-run", ...FLAGS]),
    helm: deploy(["up", "--target=helm", "--dry-run", "--overlay=kind", ...FLAGS]),
    json: deploy(["--target=helm", "--dry-run", "--json", ...FLAGS]),
  };

  test(
    "k8s: images tagged from the versions, replicas into the HPA, settings into the ConfigMaps, namespace",
    async () => {
      const objects = manifestOf(await runs.k8s, "k8s");
      expect(images(objects).sort()).toEqual(["timekit/service1:1.2.3", "timekit/service2:1.0"]);
      expect(images(objects).some((i) => /:latest$|^[^:]+$/.test(i))).toBe(false);
      expect(deep(find(objects, "HorizontalPodAutoscaler", "service1")).spec.minReplicas).toBe(4);
      expect(deep(find(objects, "HorizontalPodAutoscaler", "service2")).spec.minReplicas).toBe(1);
      // The autoscaler owns the count: the Deployment sets none (an apply would reset it).
      expect(deep(find(objects, "Deployment", "service1")).spec.replicas).toBeUndefined();
      const config1 = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("service1-config"));
      const config2 = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("service2-config"));
      expect(deep(config1).data.LOG_LEVEL).toBe("debug");
      expect(deep(config2).data.SERVICE1_RETRIES).toBe("4");
      expect(deep(config2).data.DRAIN_TIMEOUT_MS).toBe("3000");
      expect(deep(config2).data.LOG_LEVEL).toBe("info");
      expect(find(objects, "Namespace", "tk-test").metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe(
        "restricted",
      );
      for (const o of objects.filter((x) => x.kind !== "Namespace")) expect(o.metadata.namespace).toBe("tk-test");
      await expectValidAndPolicyClean(objects);
    },
    SLOW,
  );

  test(
    "helm: the same flags become both releases' values, plus the restricted namespace",
    async () => {
      const objects = manifestOf(await runs.helm, "helm");
      // Deployments and the helm test pods run the same images.
      expect([...new Set(images(objects))].sort()).toEqual(["timekit/service1:1.2.3", "timekit/service2:1.0"]);
      expect(deep(find(objects, "HorizontalPodAutoscaler", "service1")).spec.minReplicas).toBe(4);
      expect(deep(find(objects, "ConfigMap", "service1")).data.LOG_LEVEL).toBe("debug");
      expect(deep(find(objects, "ConfigMap", "service2")).data.SERVICE1_RETRIES).toBe("4");
      // --overlay=kind exposes service2 on the node port the kind cluster config maps.
      expect(deep(find(objects, "Service", "service2")).spec.type).toBe("NodePort");
      expect(find(objects, "Namespace", "tk-test").metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe(
        "restricted",
      );
      for (const o of objects.filter((x) => x.kind !== "Namespace")) expect(o.metadata.namespace).toBe("tk-test");
      await expectValidAndPolicyClean(objects);
    },
    SLOW,
  );

  test(
    "--json prints the plan, the render input and each release's values (what the charts are given)",
    async () => {
      const r = await runs.json;
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.dryRun).toBe(true);
      expect(out.plan.target).toBe("helm");
      expect(out.plan.k8s).toEqual({ namespace: "tk-test", context: null, overlay: "base", loadImages: "auto" });
      expect(out.render.services.service1).toMatchObject({ image: "timekit/service1", tag: "1.2.3", replicas: 4 });
      const values = Object.fromEntries(
        out.releases.map((x: { release: string; values: unknown }) => [x.release, x.values]),
      );
      expect(values.service1.autoscaling.minReplicas).toBe(4);
      expect(values.service1.image).toEqual({ repository: "timekit/service1", tag: "1.2.3", digest: "" });
      expect(values.service2.config.service1Retries).toBe(4);
      expect(values.service2.config.service1Url).toBe("http://service1:8080");
      expect(values.service2.service).toEqual({ type: "ClusterIP" });
    },
    SLOW,
  );

  test(
    "a setting the service would refuse, from an env file, is exit 2 before rendering",
    async () => {
      const file = join(stateDir, "unknown.env");
      writeFileSync(file, "NOT_A_SETTING=1\n");
      const r = await deploy(["--target=k8s", "--dry-run", `--env_file_service1=${file}`]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/--env_file_service1: .*unknown\.env:1: NOT_A_SETTING is not a service1 setting/);
    },
    SLOW,
  );
});

test.each([
  ["unknown target", ["--target=k9s"], /--target="k9s" is not allowed; use one of compose, k8s, helm/],
  [
    "namespace not RFC 1123",
    ["--target=k8s", "--namespace=Bad_NS"],
    /--namespace="Bad_NS" is not allowed; use an RFC 1123 label/,
  ],
  ["namespace too long", ["--target=helm", `--namespace=${"a".repeat(64)}`], /--namespace="a{64}" is not allowed/],
  ["replicas zero", ["--target=k8s", "--additional_param_1=0"], /--additional_param_1="0" is not allowed/],
  ["replicas above the range", ["--target=helm", "--replicas_service1=21"], /--additional_param_1="21" is not allowed/],
  [
    "unknown overlay",
    ["--target=k8s", "--overlay=eks"],
    /--overlay="eks" is not allowed; use one of base, kind, minikube, docker-desktop/,
  ],
  ["unknown image loader", ["--target=helm", "--load_images=docker"], /--load_images="docker" is not allowed/],
  ["empty context", ["--target=k8s", "--context="], /--context needs a value/],
  ["Kubernetes flag on the Compose target", ["--namespace=x"], /--namespace applies to --target=k8s or --target=helm/],
  [
    "Compose port on a Kubernetes target",
    ["--target=k8s", "--port=8080"],
    /--port is the Compose target's published port/,
  ],
  [
    "a version that is not a tag",
    ["--target=k8s", "--version_service1=latest"],
    /--version_service1="latest" is not a version/,
  ],
  ["misspelt flag", ["--target=k8s", "--namspace=x"], /unknown flag --namspace; did you mean --namespace\?/],
])("bad flags exit 2 naming the flag, nothing rendered: %s", async (_name, args, message) => {
  const r = await deploy([...args, "--dry-run"]);
  expect(r.stderr).toMatch(message);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
});

describeWith(["kubectl", "helm"], "the live path without a cluster", () => {
  for (const target of ["k8s", "helm"] as const) {
    test(
      `${target}: render and checks pass, then exit 1 naming the unreachable context; nothing applied`,
      async () => {
        const r = await deploy([
          `--target=${target}`,
          "--context=timekit-no-such-context",
          "--version_service1=1.0",
          "--version_service2=1.0",
        ]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/no Kubernetes cluster reachable through context "timekit-no-such-context"/);
        expect(r.stderr).toMatch(/fix: start a cluster .* --context=NAME .* --dry-run needs no cluster/);
        // Order: the render and its checks ran (and passed) before the cluster was asked.
        const rendered = r.stderr.indexOf(`✓ render ${target} manifests; schema and policy checks`);
        const asked = r.stderr.indexOf("✗ a Kubernetes cluster answers");
        expect(rendered).toBeGreaterThanOrEqual(0);
        expect(asked).toBeGreaterThan(rendered);
        expect(r.stderr).not.toMatch(/kubectl apply|helm upgrade|load images/);
        // No lock taken, no history written for that context.
        const dir = k8sStateDir(join(stateDir, "timekit"), target, {
          context: "timekit-no-such-context",
          namespace: "timekit",
        });
        expect(existsSync(dir)).toBe(false);
      },
      SLOW,
    );
  }

  test.each([["status"], ["rollback"], ["down"]])(
    "%s --target=helm with an unreachable context: exit 1",
    async (command) => {
      const r = await deploy([command, "--target=helm", "--context=timekit-no-such-context"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no Kubernetes cluster reachable through context "timekit-no-such-context"/);
    },
    SLOW,
  );

  test(
    "history --target=k8s reads its own record (empty here) and says the cluster history is unavailable",
    async () => {
      const json = await deploy(["history", "--target=k8s", "--context=timekit-no-such-context", "--json"]);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual([]);
      const text = await deploy(["history", "--target=k8s", "--context=timekit-no-such-context"]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/no deploys recorded .*k8s_timekit-no-such-context_timekit/);
      expect(text.stdout).toMatch(/cluster history unavailable: no Kubernetes cluster reachable/);
    },
    SLOW,
  );
});
