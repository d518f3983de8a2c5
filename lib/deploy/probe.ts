/**
 * One end-to-end probe, the last step of every target's health gate: GET /v1/format on service2,
 * whose answer needs service1. Each target owns its loop (a published port for Compose, a
 * port-forward for Kubernetes); the probe itself is the same everywhere.
 */
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
