import { expect, test } from "bun:test";
import type { K8sObject } from "../../lib/k8s/objects";
import {
  defaultInput,
  gracePeriodSeconds,
  type RenderInput,
  RenderInputError,
  resolveInput,
  splitImageRef,
} from "../../lib/k8s/render";
import { resolveEnv } from "../../lib/settings";
import { customInput, describeWith, RENDER_TIMEOUT_MS, rendered } from "./support";

// biome-ignore lint/suspicious/noExplicitAny: reads nested fields of rendered objects
type Any = any;

function problemsOf(input: RenderInput): string[] {
  try {
    resolveInput(input);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(RenderInputError);
    return (error as RenderInputError).problems;
  }
}

test("a bad input lists every problem at once, before any tool runs", () => {
  const input = defaultInput({ namespace: "Time_Kit" });
  input.services.service1 = { image: "timekit/service1:1.0", tag: "latest", digest: "sha256:abc", replicas: 0 };
  input.services.service2 = { ...input.services.service2, env: { LOG_LEVEL: "loud", COLOUR: "blue" } };
  const problems = problemsOf(input).join("\n");
  expect(problems).toContain('namespace="Time_Kit"');
  expect(problems).toContain('services.service1.image="timekit/service1:1.0" must be a repository without tag');
  expect(problems).toContain('services.service1.tag="latest"');
  expect(problems).toContain("services.service1.digest");
  expect(problems).toContain("services.service1.replicas=0");
  expect(problems).toContain("unknown setting COLOUR");
  expect(problemsOf(defaultInput())).toEqual([]);
});

test("settings are checked by the services' own rules, naming the variable and what is allowed", () => {
  const check = (env: Record<string, string>) =>
    problemsOf({
      ...defaultInput(),
      services: { ...defaultInput().services, service2: { ...defaultInput().services.service2, env } },
    });
  expect(check({ LOG_LEVEL: "loud" })[0]).toContain('LOG_LEVEL="loud": expected one of fatal, error');
  expect(check({ SERVICE1_URL: "ftp://service1" })[0]).toContain("SERVICE1_URL");
  expect(check({ SERVICE1_RETRIES: "9" })[0]).toContain("an integer from 0 to 5");
  expect(check({ DRAIN_TIMEOUT_MS: "08000" })).toEqual([]);
  expect(resolveEnv("service2", { DRAIN_TIMEOUT_MS: "08000" }).DRAIN_TIMEOUT_MS).toBe("8000");
});

test("image references split the way the deploy plan writes them", () => {
  expect(splitImageRef("timekit/service1:1.2.3")).toEqual({ image: "timekit/service1", tag: "1.2.3" });
  expect(splitImageRef("127.0.0.1:5000/timekit/service1:1.2.3@sha256:ab")).toEqual({
    image: "127.0.0.1:5000/timekit/service1",
    tag: "1.2.3",
    digest: "sha256:ab",
  });
  expect(splitImageRef("127.0.0.1:5000/timekit/service1")).toEqual({ image: "127.0.0.1:5000/timekit/service1" });
});

test("the grace period covers the preStop pause, the shutdown delay and the drain, rounded up", () => {
  expect(gracePeriodSeconds({ SHUTDOWN_DELAY_MS: "0", DRAIN_TIMEOUT_MS: "8000" })).toBe(15);
  expect(gracePeriodSeconds({ SHUTDOWN_DELAY_MS: "2000", DRAIN_TIMEOUT_MS: "15001" })).toBe(25);
});

function get(objects: K8sObject[], kind: string, name: string): Any {
  const object = objects.find((o) => o.kind === kind && o.metadata.name.startsWith(name));
  if (!object) throw new Error(`${kind} ${name} not rendered`);
  return object;
}

describeWith(["kubectl", "helm"], "rendering applies the input", () => {
  for (const how of ["raw", "helm"] as const) {
    test(
      `${how}: namespace, images, replicas, settings, grace period, exposure and Ingress`,
      async () => {
        const input = customInput("kind");
        const { objects, manifest } = await rendered(how, input);
        expect(manifest).toContain("kind: Deployment");
        expect(new Set(objects.filter((o) => o.kind !== "Namespace").map((o) => o.metadata.namespace))).toEqual(
          new Set(["timekit-staging"]),
        );

        const service1 = get(objects, "Deployment", "service1").spec.template.spec;
        const service2 = get(objects, "Deployment", "service2").spec.template.spec;
        expect(service1.containers[0].image).toBe(`127.0.0.1:5000/timekit/service1:1.2.3@sha256:${"1".repeat(64)}`);
        expect(service2.containers[0].image).toBe("127.0.0.1:5000/timekit/service2:1.3.0-rc.1");
        expect(service1.containers[0].ports[0].containerPort).toBe(9090);
        expect(service1.terminationGracePeriodSeconds).toBe(5 + 17 + 2);
        expect(service2.terminationGracePeriodSeconds).toBe(15);

        const hpa1 = get(objects, "HorizontalPodAutoscaler", "service1").spec;
        const hpa2 = get(objects, "HorizontalPodAutoscaler", "service2").spec;
        expect([hpa1.minReplicas, hpa1.maxReplicas, hpa2.minReplicas, hpa2.maxReplicas]).toEqual([5, 5, 2, 8]);
        expect(get(objects, "Deployment", "service1").spec.replicas).toBeUndefined();

        expect(get(objects, "ConfigMap", "service1").data).toEqual(resolveEnv("service1", input.services.service1.env));
        expect(get(objects, "ConfigMap", "service2").data).toEqual(resolveEnv("service2", input.services.service2.env));

        const port = get(objects, "Service", "service2").spec.ports[0];
        expect([get(objects, "Service", "service2").spec.type, port.nodePort]).toEqual(["NodePort", 30080]);
        const rule = get(objects, "Ingress", "service2").spec;
        expect([rule.ingressClassName, rule.rules[0].host]).toEqual(["nginx", "time.example.test"]);
      },
      RENDER_TIMEOUT_MS,
    );
  }

  test(
    "a setting change changes the raw ConfigMap's name, so `kubectl apply` rolls the pods",
    async () => {
      const name = async (input: RenderInput) =>
        get((await rendered("raw", input)).objects, "Deployment", "service2").spec.template.spec.containers[0]
          .envFrom[0].configMapRef.name;
      const changed = defaultInput();
      changed.services.service2 = { ...changed.services.service2, env: { LOG_LEVEL: "debug" } };
      expect(await name(changed)).not.toBe(await name(defaultInput()));
    },
    RENDER_TIMEOUT_MS,
  );
});
