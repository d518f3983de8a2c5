import { expect, test } from "bun:test";
import { join } from "node:path";
import { run } from "../../lib/exec";
import { parseManifests } from "../../lib/k8s/objects";
import { checkPolicy, formatViolations } from "../../lib/k8s/policy";
import { KUBE_VERSION } from "../../lib/k8s/render";
import { formatProblems, validateObjects } from "../../lib/k8s/validate";
import { CHARTS_DIR } from "../../lib/paths";
import { SERVICES } from "../../lib/services";
import { describeWith, RENDER_TIMEOUT_MS, tool } from "./support";

const chart = (service: string) => join(CHARTS_DIR, service);
const customValues = (service: string) => join(chart(service), "ci", "custom-values.yaml");

async function helm(...args: string[]) {
  return await run([tool("helm"), ...args], { timeoutMs: 60_000 });
}

async function template(service: string, ...args: string[]) {
  return await helm(
    "template",
    service,
    chart(service),
    "--namespace",
    "timekit",
    "--kube-version",
    KUBE_VERSION,
    ...args,
  );
}

describeWith(["helm"], "Helm charts", () => {
  for (const service of SERVICES) {
    for (const [label, extra] of [
      ["default values", []],
      ["custom values", ["--values", customValues(service)]],
    ] as const) {
      test(
        `${service}: helm lint --strict passes with ${label}`,
        async () => {
          const result = await helm("lint", "--strict", chart(service), "--kube-version", KUBE_VERSION, ...extra);
          expect(result.stdout + result.stderr).toContain("0 chart(s) failed");
          expect(result.exitCode).toBe(0);
        },
        RENDER_TIMEOUT_MS,
      );

      test(
        `${service}: helm template with ${label} renders valid objects that pass the policy`,
        async () => {
          const result = await template(service, ...extra);
          expect(result.stderr).toBe("");
          const objects = parseManifests(result.stdout, `${service} ${label}`);
          expect(objects.map((o) => o.kind).sort()).toEqual(
            expect.arrayContaining(["ConfigMap", "Deployment", "NetworkPolicy", "Pod", "Service", "ServiceAccount"]),
          );
          expect(formatProblems(await validateObjects(objects))).toBe("");
          // Alone, service2's SERVICE1_URL names a Service this chart does not render; that is wiring
          // between the two releases, checked by the suites that render both.
          const violations = checkPolicy(objects).filter((v) => v.rule !== "wiring.upstream" || service === "service1");
          expect(formatViolations(violations)).toBe("");
        },
        RENDER_TIMEOUT_MS,
      );
    }
  }

  test.each([
    ["image.tag=latest", "/image/tag"],
    ["image.digest=sha256:abc", "/image/digest"],
    ["config.logLevel=loud", "/config/logLevel"],
    ["config.port=0", "/config/port"],
    ["config.drainTimeoutMs=50", "/config/drainTimeoutMs"],
    ["podDisruptionBudget.maxUnavailable=0", "/podDisruptionBudget/maxUnavailable"],
    ["service.type=ExternalName", "/service/type"],
    ["confg.port=8080", "additional properties 'confg' not allowed"],
    ["resources.limits.memory=null", "/resources/limits"],
  ])(
    "the values schema refuses %s",
    async (setting, complaint) => {
      const result = await template("service1", "--set", setting);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain(complaint);
    },
    RENDER_TIMEOUT_MS,
  );

  test(
    "service2's schema checks its own settings too",
    async () => {
      const result = await template(
        "service2",
        "--set",
        "config.service1Retries=9",
        "--set",
        "config.service1Url=ftp://x",
      );
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain("/config/service1Retries");
      expect(result.stderr).toContain("/config/service1Url");
    },
    RENDER_TIMEOUT_MS,
  );

  test(
    "a grace period shorter than the drain, or minReplicas above maxReplicas, fails the render",
    async () => {
      const grace = await template("service1", "--set", "terminationGracePeriodSeconds=10");
      expect(grace.exitCode).not.toBe(0);
      expect(grace.stderr).toContain("terminationGracePeriodSeconds=10 is shorter than");
      const range = await template(
        "service2",
        "--set",
        "autoscaling.minReplicas=4",
        "--set",
        "autoscaling.maxReplicas=2",
      );
      expect(range.exitCode).not.toBe(0);
      expect(range.stderr).toContain("autoscaling.minReplicas (4) must not exceed autoscaling.maxReplicas (2)");
    },
    RENDER_TIMEOUT_MS,
  );

  test(
    "an empty client list never becomes an allow-all ingress rule on service1",
    async () => {
      const result = await template(
        "service1",
        "--set-json",
        "networkPolicy.clients=[]",
        "--set",
        "tests.enabled=false",
      );
      const policy = parseManifests(result.stdout, "service1").find((o) => o.kind === "NetworkPolicy");
      expect(policy?.spec).toMatchObject({ ingress: [], policyTypes: ["Ingress", "Egress"] });
    },
    RENDER_TIMEOUT_MS,
  );

  test(
    "NOTES tell the newcomer how to check and call the release",
    async () => {
      const result = await helm("install", "service2", chart("service2"), "--namespace", "timekit", "--dry-run=client");
      expect(result.exitCode).toBe(0);
      const notes = result.stdout.slice(result.stdout.indexOf("NOTES:"));
      expect(notes).toContain("helm test service2 -n timekit");
      expect(notes).toContain("kubectl -n timekit rollout status deployment/service2");
      expect(notes).toContain("http://service1:8080");
    },
    RENDER_TIMEOUT_MS,
  );

  test("both charts ship the same helm-test request script", async () => {
    const [one, two] = await Promise.all(
      SERVICES.map((service) => Bun.file(join(chart(service), "files", "request.js")).text()),
    );
    expect(one).toContain("BUN_BE_BUN");
    expect(two).toBe(one as string);
  });
});
