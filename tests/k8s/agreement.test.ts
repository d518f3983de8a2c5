import { expect, test } from "bun:test";
import { defaultInput, OVERLAYS } from "../../lib/k8s/render";
import { posture } from "./posture";
import { customInput, describeWith, RENDER_TIMEOUT_MS, rendered } from "./support";

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
