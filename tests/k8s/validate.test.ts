import { beforeAll, expect, test } from "bun:test";
import type { K8sObject } from "../../lib/k8s/objects";
import { defaultInput, OVERLAYS } from "../../lib/k8s/render";
import { formatProblems, unknownFields, validateObjects } from "../../lib/k8s/validate";
import { customInput, describeWith, RENDER_TIMEOUT_MS, rendered } from "./support";

// biome-ignore lint/suspicious/noExplicitAny: test mutations reach into arbitrary nested fields
type Any = any;

describeWith(["kubectl", "helm"], "schema and unknown-field validation", () => {
  let deployment: Any;
  beforeAll(async () => {
    const { objects } = await rendered("helm", defaultInput());
    deployment = objects.find((o) => o.kind === "Deployment");
  }, RENDER_TIMEOUT_MS);

  for (const how of ["raw", "helm"] as const) {
    test(
      `every object ${how} output renders is valid, for every overlay, default and custom`,
      async () => {
        const inputs = OVERLAYS.flatMap((overlay) => [defaultInput({ overlay }), customInput(overlay)]);
        for (const input of inputs) {
          const { objects } = await rendered(how, input);
          expect(formatProblems(await validateObjects(objects))).toBe("");
        }
      },
      RENDER_TIMEOUT_MS,
    );
  }

  test("a misspelt field is reported with its path and the field it probably meant", () => {
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].securityContext.readOnlyRootFilesytem = true;
    broken.spec.template.spec.containers[0].lifecycle.preStop.sleep.second = 5;
    broken.spec.template.spec.terminationGracePeriod = 30;
    expect(unknownFields(broken).sort()).toEqual([
      "unknown field spec.template.spec.containers[0].lifecycle.preStop.sleep.second (did you mean seconds?)",
      "unknown field spec.template.spec.containers[0].securityContext.readOnlyRootFilesytem (did you mean readOnlyRootFilesystem?)",
      "unknown field spec.template.spec.terminationGracePeriod (did you mean terminationGracePeriodSeconds?)",
    ]);
  });

  test("a wrong type or a missing required field fails the schema pass", async () => {
    const wrongType = structuredClone(deployment);
    wrongType.spec.template.spec.containers[0].ports[0].containerPort = "http";
    const noContainers = structuredClone(deployment);
    delete noContainers.spec.template.spec.containers;
    const problems = await validateObjects([wrongType, noContainers]);
    expect(problems.map((p) => p.check)).toEqual(["schema", "schema"]);
    expect(problems[0]?.message).toContain("containerPort");
    expect(problems[1]?.message).toContain("containers");
  });

  test("free-form maps (labels, annotations, resource lists, ConfigMap data) take any key", () => {
    const object = structuredClone(deployment);
    object.metadata.labels["example.com/anything"] = "x";
    object.spec.template.metadata.annotations["example.com/else"] = "y";
    object.spec.template.spec.containers[0].resources.limits["example.com/gpu"] = "1";
    const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { ANY_KEY: "v" } };
    expect(unknownFields(object)).toEqual([]);
    expect(unknownFields(configMap as K8sObject)).toEqual([]);
  });

  test("an unknown kind is reported instead of passing unchecked", async () => {
    const crd = { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "s" } };
    const problems = await validateObjects([crd]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.check).toBe("unsupported");
  });
});
