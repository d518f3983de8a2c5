import { beforeAll, expect, test } from "bun:test";
import type { K8sObject } from "../../lib/k8s/objects";
import { checkPolicy, formatViolations, RULES, type RuleId } from "../../lib/k8s/policy";
import { defaultInput, OVERLAYS } from "../../lib/k8s/render";
import { customInput, describeWith, RENDER_TIMEOUT_MS, rendered } from "./support";

// Mutations write into rendered objects, whose shapes the schema pass has already checked.
// biome-ignore lint/suspicious/noExplicitAny: test mutations reach into arbitrary nested fields
type Any = any;

function find(objects: K8sObject[], kind: string, name: string): Any {
  const object = objects.find((o) => o.kind === kind && o.metadata.name.startsWith(name));
  if (!object) throw new Error(`no ${kind} ${name} in the baseline`);
  return object;
}
const pod = (objects: K8sObject[], name = "service1") => find(objects, "Deployment", name).spec.template.spec;
const container = (objects: K8sObject[], name = "service1") => pod(objects, name).containers[0];
const without = (objects: K8sObject[], kind: string, name: string) =>
  objects.splice(objects.indexOf(find(objects, kind, name)), 1);

interface Case {
  rule: RuleId;
  breaks: string;
  mutate(objects: K8sObject[]): void;
}

/** One manifest change per way of breaking each rule; every rule of RULES must appear here. */
const CASES: Case[] = [
  {
    rule: "pod.run-as-non-root",
    breaks: "a container allows root",
    mutate: (o) => {
      container(o).securityContext.runAsNonRoot = false;
    },
  },
  {
    rule: "pod.run-as-user",
    breaks: "a container runs as UID 0",
    mutate: (o) => {
      container(o).securityContext.runAsUser = 0;
    },
  },
  {
    rule: "pod.seccomp",
    breaks: "seccomp Unconfined",
    mutate: (o) => {
      container(o).securityContext.seccompProfile = { type: "Unconfined" };
    },
  },
  {
    rule: "pod.service-account-token",
    breaks: "the token is mounted",
    mutate: (o) => {
      delete pod(o).automountServiceAccountToken;
    },
  },
  {
    rule: "pod.host-access",
    breaks: "host network",
    mutate: (o) => {
      pod(o).hostNetwork = true;
    },
  },
  {
    rule: "pod.host-access",
    breaks: "a hostPath volume",
    mutate: (o) => {
      pod(o).volumes.push({ name: "host", hostPath: { path: "/" } });
    },
  },
  {
    rule: "pod.service-links",
    breaks: "Service links on",
    mutate: (o) => {
      pod(o, "service2").enableServiceLinks = true;
    },
  },
  {
    rule: "container.privilege-escalation",
    breaks: "privilege escalation allowed",
    mutate: (o) => {
      container(o).securityContext.allowPrivilegeEscalation = true;
    },
  },
  {
    rule: "container.capabilities",
    breaks: "NET_ADMIN added",
    mutate: (o) => {
      container(o).securityContext.capabilities.add = ["NET_ADMIN"];
    },
  },
  {
    rule: "container.capabilities",
    breaks: "nothing dropped",
    mutate: (o) => {
      delete container(o).securityContext.capabilities;
    },
  },
  {
    rule: "container.privileged",
    breaks: "privileged",
    mutate: (o) => {
      container(o).securityContext.privileged = true;
    },
  },
  {
    rule: "container.read-only-root",
    breaks: "writable root filesystem",
    mutate: (o) => {
      container(o, "service2").securityContext.readOnlyRootFilesystem = false;
    },
  },
  {
    rule: "container.resources",
    breaks: "no memory limit",
    mutate: (o) => {
      delete container(o).resources.limits.memory;
    },
  },
  {
    rule: "container.resources",
    breaks: "limit below request",
    mutate: (o) => {
      container(o).resources.limits.cpu = "10m";
    },
  },
  {
    rule: "container.image",
    breaks: "the latest tag",
    mutate: (o) => {
      container(o).image = "timekit/service1:latest";
    },
  },
  {
    rule: "container.image",
    breaks: "no tag at all",
    mutate: (o) => {
      container(o).image = "timekit/service1";
    },
  },
  {
    rule: "workload.probes",
    breaks: "a TCP-only readiness probe",
    mutate: (o) => {
      container(o).readinessProbe = { tcpSocket: { port: "http" } };
    },
  },
  {
    rule: "workload.probes",
    breaks: "liveness on /readyz",
    mutate: (o) => {
      container(o).livenessProbe.httpGet.path = "/readyz";
    },
  },
  {
    rule: "workload.probes",
    breaks: "no startup probe",
    mutate: (o) => {
      delete container(o, "service2").startupProbe;
    },
  },
  {
    rule: "workload.prestop",
    breaks: "no preStop pause",
    mutate: (o) => {
      delete container(o).lifecycle;
    },
  },
  {
    rule: "workload.grace-period",
    breaks: "a grace period shorter than the drain",
    mutate: (o) => {
      pod(o).terminationGracePeriodSeconds = 10;
    },
  },
  {
    rule: "workload.port",
    breaks: "the container port disagrees with PORT",
    mutate: (o) => {
      container(o).ports[0].containerPort = 8081;
    },
  },
  {
    rule: "wiring.selector",
    breaks: "template labels that the selector misses",
    mutate: (o) => {
      find(o, "Deployment", "service2").spec.template.metadata.labels["app.kubernetes.io/name"] = "svc2";
    },
  },
  {
    rule: "wiring.config",
    breaks: "envFrom names a ConfigMap that is not rendered",
    mutate: (o) => {
      container(o).envFrom[0].configMapRef.name = "service1-settings";
    },
  },
  {
    rule: "wiring.service-account",
    breaks: "the default ServiceAccount",
    mutate: (o) => {
      pod(o).serviceAccountName = "default";
    },
  },
  {
    rule: "wiring.service-account",
    breaks: "a ServiceAccount that is not rendered",
    mutate: (o) => without(o, "ServiceAccount", "service2"),
  },
  {
    rule: "wiring.service",
    breaks: "a Service that selects nothing",
    mutate: (o) => {
      find(o, "Service", "service1").spec.selector = { "app.kubernetes.io/name": "service-one" };
    },
  },
  {
    rule: "wiring.service",
    breaks: "a targetPort the pods do not declare",
    mutate: (o) => {
      find(o, "Service", "service1").spec.ports[0].targetPort = "metrics";
    },
  },
  {
    rule: "wiring.upstream",
    breaks: "SERVICE1_URL on a port the Service lacks",
    mutate: (o) => {
      find(o, "ConfigMap", "service2").data.SERVICE1_URL = "http://service1:9999";
    },
  },
  {
    rule: "wiring.upstream",
    breaks: "SERVICE1_URL naming no Service",
    mutate: (o) => {
      find(o, "ConfigMap", "service2").data.SERVICE1_URL = "http://service-one:8080";
    },
  },
  {
    rule: "wiring.upstream",
    breaks: "service1's policy admitting a different client",
    mutate: (o) => {
      find(o, "NetworkPolicy", "service1").spec.ingress[0].from[0].podSelector.matchLabels = {
        "app.kubernetes.io/name": "service3",
      };
    },
  },
  {
    rule: "wiring.upstream",
    breaks: "service2's egress going to the wrong port",
    mutate: (o) => {
      find(o, "NetworkPolicy", "service2").spec.egress[0].ports[0].port = 8080;
    },
  },
  {
    rule: "wiring.ingress",
    breaks: "an Ingress backend that is not rendered",
    mutate: (o) => {
      find(o, "Ingress", "service2").spec.rules[0].http.paths[0].backend.service.name = "frontend";
    },
  },
  {
    rule: "netpol.isolation",
    breaks: "no default deny and no policy of its own",
    mutate: (o) => {
      without(o, "NetworkPolicy", "default-deny");
      without(o, "NetworkPolicy", "service1");
    },
  },
  {
    rule: "netpol.dns",
    breaks: "no DNS egress",
    mutate: (o) => without(o, "NetworkPolicy", "allow-dns"),
  },
  {
    rule: "netpol.reachable",
    breaks: "service1 admitting nobody",
    mutate: (o) => {
      find(o, "NetworkPolicy", "service1").spec.ingress = [];
    },
  },
  {
    rule: "netpol.exposed",
    breaks: "a NodePort Service whose pods admit only in-namespace pods",
    mutate: (o) => {
      find(o, "NetworkPolicy", "service2").spec.ingress[0].from = [{ podSelector: {} }];
    },
  },
  {
    rule: "pdb.selector",
    breaks: "a budget that selects nothing",
    mutate: (o) => {
      find(o, "PodDisruptionBudget", "service1").spec.selector.matchLabels = { "app.kubernetes.io/name": "x" };
    },
  },
  {
    rule: "pdb.blocking",
    breaks: "maxUnavailable 0",
    mutate: (o) => {
      find(o, "PodDisruptionBudget", "service1").spec.maxUnavailable = 0;
    },
  },
  {
    rule: "pdb.blocking",
    breaks: "minAvailable equal to the replica floor",
    mutate: (o) => {
      const pdb = find(o, "PodDisruptionBudget", "service2");
      delete pdb.spec.maxUnavailable;
      pdb.spec.minAvailable = find(o, "HorizontalPodAutoscaler", "service2").spec.minReplicas;
    },
  },
  {
    rule: "hpa.target",
    breaks: "an autoscaler aimed at a missing Deployment",
    mutate: (o) => {
      find(o, "HorizontalPodAutoscaler", "service1").spec.scaleTargetRef.name = "service-one";
    },
  },
  {
    rule: "hpa.range",
    breaks: "minReplicas above maxReplicas",
    mutate: (o) => {
      const hpa = find(o, "HorizontalPodAutoscaler", "service1");
      hpa.spec.minReplicas = hpa.spec.maxReplicas + 1;
    },
  },
  {
    rule: "hpa.replicas",
    breaks: "spec.replicas beside an autoscaler",
    mutate: (o) => {
      find(o, "Deployment", "service2").spec.replicas = 2;
    },
  },
  {
    rule: "namespace.pod-security",
    breaks: "a namespace that does not enforce restricted",
    mutate: (o) => {
      find(o, "Namespace", "timekit").metadata.labels["pod-security.kubernetes.io/enforce"] = "baseline";
    },
  },
  {
    rule: "namespace.consistent",
    breaks: "an object in another namespace",
    mutate: (o) => {
      find(o, "Service", "service1").metadata.namespace = "default";
    },
  },
  {
    rule: "namespace.consistent",
    breaks: "an object with no namespace",
    mutate: (o) => {
      delete find(o, "ConfigMap", "service1").metadata.namespace;
    },
  },
];

test("every policy rule has at least one case that breaks it", () => {
  const covered = new Set(CASES.map((c) => c.rule));
  expect(Object.keys(RULES).filter((rule) => !covered.has(rule as RuleId))).toEqual([]);
});

describeWith(["kubectl", "helm"], "policy check", () => {
  // The raw kind overlay with every option on: Namespace, Ingress, NodePort, autoscalers, budgets.
  let baseline: K8sObject[] = [];
  beforeAll(async () => {
    baseline = (await rendered("raw", customInput("kind"))).objects;
    // Warm every render the suite reads, concurrently: the tools are separate processes.
    await Promise.all(
      ["raw", "helm"].flatMap((how) =>
        OVERLAYS.flatMap((overlay) =>
          [defaultInput({ overlay }), customInput(overlay)].map((input) => rendered(how as "raw" | "helm", input)),
        ),
      ),
    );
  }, RENDER_TIMEOUT_MS);

  for (const how of ["raw", "helm"] as const) {
    for (const overlay of OVERLAYS) {
      test(
        `passes on ${how} output for the ${overlay} overlay, default and custom settings`,
        async () => {
          for (const input of [defaultInput({ overlay }), customInput(overlay)]) {
            const { objects } = await rendered(how, input);
            expect(objects.length).toBeGreaterThan(10);
            expect(formatViolations(checkPolicy(objects))).toBe("");
          }
        },
        RENDER_TIMEOUT_MS,
      );
    }
  }

  test.each(CASES.map((c) => [c.rule, c.breaks, c] as const))("%s fails on %s", (rule, _breaks, { mutate }) => {
    const objects = structuredClone(baseline);
    mutate(objects);
    const violations = checkPolicy(objects);
    expect(violations.map((v) => v.rule)).toContain(rule);
    const found = violations.find((v) => v.rule === rule);
    expect(found?.object).toMatch(/^[A-Za-z]+\//);
    expect(found?.message.length).toBeGreaterThan(10);
  });

  test(
    "the Helm test pods meet the same profile and may reach their Service",
    async () => {
      const { objects } = await rendered("helm", customInput("base"));
      const testPods = objects.filter((o) => o.kind === "Pod");
      expect(testPods.map((p) => p.metadata.name).sort()).toEqual(["service1-test", "service2-test"]);
      // Breaking the test pod's own NetworkPolicy must surface as a blocked upstream call.
      const broken = structuredClone(objects);
      (find(broken, "NetworkPolicy", "service1-test") as Any).spec.egress = [];
      const violations = checkPolicy(broken).filter((v) => v.object === "Pod/timekit-staging/service1-test");
      expect(violations.map((v) => v.rule)).toContain("wiring.upstream");
    },
    RENDER_TIMEOUT_MS,
  );
});
