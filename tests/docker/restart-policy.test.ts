/**
 * Crash recovery through the engine: service1's process is SIGKILLed from the host (a crash, not
 * a `docker stop`), and the restart policy compose.yaml sets brings the container back healthy,
 * with no one touching it. The figures go to the bench report's reliability table.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { recordReliability } from "../reliability/record";
import { type ComposeCli, ComposeProject, composeCli } from "../support/compose";
import { inspect, requireDocker, unavailable, uniqueName, waitFor, waitHealthy } from "../support/docker";
import { TEST_REPOSITORY, TEST_TAG, testImages } from "../support/images";

const SUITE = "restart policy suite";
const hasDocker = await requireDocker(SUITE);
const cli: ComposeCli | null = hasDocker ? await composeCli() : null;
const ready =
  hasDocker && (cli !== null || unavailable(SUITE, "neither `docker compose` nor `docker-compose` answers"));
const HANG_GUARD_MS = 120_000;
let project: ComposeProject;

describe.skipIf(!ready)("restart policy", () => {
  beforeAll(async () => {
    await testImages();
    project = await ComposeProject.create(cli as ComposeCli, uniqueName("restart"), {
      REGISTRY: TEST_REPOSITORY,
      SERVICE1_VERSION: TEST_TAG,
      SERVICE2_VERSION: TEST_TAG,
      TIMEKIT_HEALTHCHECK_INTERVAL: "1s",
    });
    await project.compose(["up", "--detach", "--no-build", "service1"]);
    const [id] = await project.containers("service1");
    await waitHealthy(id as string);
  }, 600_000);

  afterAll(async () => {
    await project?.destroy();
  }, HANG_GUARD_MS);

  test(
    "a crashed service1 (SIGKILL from the host) is restarted by the policy and turns healthy again",
    async () => {
      const [id] = (await project.containers("service1")) as [string];
      const before = await inspect(id);
      expect(before.HostConfig.RestartPolicy.Name).toBe("unless-stopped");
      process.kill(before.State.Pid as number, "SIGKILL");
      const killedAt = performance.now();

      await waitFor(
        "the engine to restart the container",
        async () => ((await inspect(id)).RestartCount > before.RestartCount ? true : undefined),
        HANG_GUARD_MS / 2,
      );
      await waitHealthy(id, HANG_GUARD_MS / 2);
      const after = await inspect(id);
      const recoveredMs = Math.round(performance.now() - killedAt);
      await recordReliability("restart-policy", {
        restartsBefore: before.RestartCount,
        restartsAfter: after.RestartCount,
        recoveredToHealthyMs: recoveredMs,
      });
      expect(after.RestartCount).toBe(before.RestartCount + 1);
      expect(after.State.Pid).not.toBe(before.State.Pid);
      expect(after.State.Health.Status).toBe("healthy");
    },
    HANG_GUARD_MS,
  );
});
