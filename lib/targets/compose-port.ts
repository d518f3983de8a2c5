/**
 * Who holds the port a Compose deploy publishes: this project's own edge or service2, another
 * timekit stack (its edge, or its service2 published directly), or another program.
 */
import type { Plan } from "../deploy/plan";
import { DeployError, ExitCode } from "../errors";
import { containersLabelled, inspectContainers } from "../images/docker";
import { type ComposeStack, publishedUrl } from "./compose-stack";

/** True when something on this machine holds a listener on 127.0.0.1:port. */
function portTaken(port: number): boolean {
  try {
    Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
    return false;
  } catch {
    return true;
  }
}

/**
 * Fails (exit 1, nothing changed) when the port to publish is held by anything but this
 * project's own edge or service2: Compose would otherwise stop what runs and then fail to start
 * the new one, leaving the stack without its entry point.
 */
export async function checkPort(plan: Plan, stack: ComposeStack): Promise<void> {
  const { port } = plan;
  if (port === 0) return;
  const { edge, service2 } = await stack.snapshot();
  const front = [...edge, ...service2];
  const ours = front.some((c) => publishedUrl(c) === `http://127.0.0.1:${port}`);
  if (ours || !portTaken(port)) return;
  const publisher = plan.services.service2.edge ? "edge" : "service2";
  const other = await timekitFrontOn(port);
  if (other !== null) {
    throw new DeployError(
      `port ${port} on 127.0.0.1 is in use by the ${other.front} of another timekit stack, Compose project "${other.project}", so this project's ${publisher} cannot be published there`,
      ExitCode.failed,
      `remove that stack (bun deploy.ts down --project=${other.project}) or pass --port=<free port> (--port=0 lets the engine pick)`,
    );
  }
  throw new DeployError(
    `port ${port} on 127.0.0.1 is in use by another program, so this project's ${publisher} cannot be published there`,
    ExitCode.failed,
    `stop what listens on it (see \`ss -ltnp 'sport = :${port}'\`) or pass --port=<free port> (--port=0 lets the engine pick)`,
  );
}

/** What publishes a timekit stack's port: its edge, or service2 itself (--publish_service2_directly). */
const FRONT_TITLES = { edge: "timekit-edge", service2: "timekit-service2" } as const;

/** The Compose project whose running edge or service2 publishes `port` on 127.0.0.1, if one does. */
async function timekitFrontOn(port: number): Promise<{ project: string; front: keyof typeof FRONT_TITLES } | null> {
  for (const [front, title] of Object.entries(FRONT_TITLES) as [keyof typeof FRONT_TITLES, string][]) {
    const ids = await containersLabelled({ "org.opencontainers.image.title": title }, false);
    const holder = (await inspectContainers(ids)).find((c) => publishedUrl(c) === `http://127.0.0.1:${port}`);
    const project = holder?.labels["com.docker.compose.project"];
    if (project !== undefined) return { project, front };
  }
  return null;
}
