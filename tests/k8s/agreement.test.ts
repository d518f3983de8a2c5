import { expect, test } from "bun:test";
import { join } from "node:path";
import { runChecked } from "../../lib/exec";
import { parseManifests } from "../../lib/k8s/objects";
import { defaultInput, KUBE_VERSION, OVERLAYS } from "../../lib/k8s/render";
import { CHARTS_DIR, K8S_DIR } from "../../lib/paths";
import { posture } from "./posture";
import { customInput, describeWith, RENDER_TIMEOUT_MS, rendered, tool } from "./support";

describeWith(["kubectl", "helm"], "raw manifests and Helm agree", () => {
  for (const overlay of OVERLAYS) {
    for (const [label, input] of [
      ["default", defaultInput({ overlay })],
      ["custom", customInput(overlay)],
    ] as const) {
      test(
        `on security posture, settings, scaling, exposure and network paths (${overlay}, ${label} input)`,
        async () => {
          const [raw, helm] = await Promise.all([rendered("raw", input), rendered("helm", input)]);
          const fromRaw = posture(raw.objects);
          expect(Object.keys(fromRaw).sort()).toEqual(["service1", "service2"]);
          expect(posture(helm.objects)).toEqual(fromRaw);
        },
        RENDER_TIMEOUT_MS,
      );
    }
  }

  test(
    "`kubectl apply -k k8s/base` and `helm install` with no values deploy the same thing",
    async () => {
      const { stdout: raw } = await runChecked([tool("kubectl"), "kustomize", join(K8S_DIR, "base")]);
      const charts = await Promise.all(
        ["service1", "service2"].map((service) =>
          runChecked([
            tool("helm"),
            "template",
            service,
            join(CHARTS_DIR, service),
            "-n",
            "timekit",
            "--kube-version",
            KUBE_VERSION,
          ]),
        ),
      );
      expect(posture(parseManifests(charts.map((chart) => chart.stdout).join("\n---\n"), "charts"))).toEqual(
        posture(parseManifests(raw, "k8s/base")),
      );
    },
    RENDER_TIMEOUT_MS,
  );

  test(
    "the summary tells the paths apart: service2 is open, service1 only to service2, neither to the internet",
    async () => {
      const { objects } = await rendered("raw", defaultInput());
      const { service1, service2 } = posture(objects);
      expect(service1?.network.from).toEqual({ service1: false, service2: true, outside: false, neighbour: false });
      expect(service2?.network.from).toEqual({ service1: false, service2: false, outside: true, neighbour: true });
      expect([service1?.network.dns, service1?.network.internet, service2?.network.internet]).toEqual([
        true,
        false,
        false,
      ]);
    },
    RENDER_TIMEOUT_MS,
  );
});
