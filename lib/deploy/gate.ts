/**
 * The end-to-end half of every target's health gate: GET /v1/format on service2, whose answer
 * needs service1. Compose asks service2's published port; the Kubernetes targets ask through a
 * `kubectl port-forward`. The probe and its retry loop are the same everywhere.
 */
import { GateFailed } from "../errors";

export type ProbeResult = { ok: true } | { ok: false; detail: string };

export async function probeThroughService2(baseUrl: string): Promise<ProbeResult> {
  try {
    const response = await fetch(`${baseUrl}/v1/format?pattern=yyyy`, {
      signal: AbortSignal.timeout(5000),
      headers: { "x-request-id": `deploy-gate-${Date.now()}` },
    });
    const body = await response.text();
    if (response.status === 200 && /"epochMs"\s*:\s*\d+/.test(body)) return { ok: true };
    return { ok: false, detail: `HTTP ${response.status}: ${body.slice(0, 200)}` };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Probes until one answer passes or `timeoutMs` is over (service2 may still be resolving new
 * service1 addresses). `baseUrl` is asked again each round: null means "not reachable yet", with
 * the reason. Throws GateFailed with the last answer.
 */
export async function verifyEndToEnd(
  baseUrl: () => Promise<string | { unreachable: string }>,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < deadline) {
    const url = await baseUrl();
    const probe =
      typeof url === "string" ? await probeThroughService2(url) : { ok: false as const, detail: url.unreachable };
    if (probe.ok) return;
    last = probe.detail;
    await Bun.sleep(250);
  }
  throw new GateFailed(
    `no request through service2 reached service1 within ${Math.round(timeoutMs / 1000)}s (last: ${last})`,
  );
}
