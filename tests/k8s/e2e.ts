/**
 * End-to-end request against a deployed stack, used by the kind workflow (not a unit test):
 *
 *   bun tests/k8s/e2e.ts http://127.0.0.1:30080
 *
 * GET /v1/format through service2 needs service1's answer, so a 200 with a formatted time proves
 * the whole path: node port -> service2 -> NetworkPolicy -> service1. Retries while the endpoints
 * settle; exits 1 with every attempt's outcome when the deadline passes.
 */
const base = Bun.argv[2];
if (!base || !URL.canParse(base)) {
  console.error("usage: bun tests/k8s/e2e.ts <service2 base URL>");
  process.exit(2);
}

// A module: top-level await below.
export {};

const DEADLINE_MS = 60_000;
const requestId = `kind-e2e-${Date.now()}`;

async function once(): Promise<string> {
  const url = new URL("/v1/format?pattern=yyyy-MM-dd&tz=Europe/Zagreb", base);
  const response = await fetch(url, { headers: { "x-request-id": requestId }, signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) throw new Error(`${response.status} ${JSON.stringify(body)}`);
  if (typeof body.formatted !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(body.formatted)) {
    throw new Error(`unexpected body ${JSON.stringify(body)}`);
  }
  if (response.headers.get("x-request-id") !== requestId) throw new Error("x-request-id was not echoed");
  return `${url} -> ${JSON.stringify(body)}`;
}

const started = Date.now();
const failures: string[] = [];
while (Date.now() - started < DEADLINE_MS) {
  try {
    console.log(`ok: ${await once()}`);
    process.exit(0);
  } catch (error) {
    failures.push(`${((Date.now() - started) / 1000).toFixed(1)}s: ${(error as Error).message}`);
    await Bun.sleep(2000);
  }
}
console.error(`no good answer from ${base} within ${DEADLINE_MS / 1000}s:\n  ${failures.join("\n  ")}`);
process.exit(1);
