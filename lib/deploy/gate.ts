/**
 * What every target's health gate asks of a new version, beyond its health check:
 *
 * - each new container or pod answers its real route (service1 `GET /v1/timestamp`, service2
 *   `GET /v1/format`, which goes through to service1) with a body valid under the service's own
 *   response schema. The images have no shell or curl, so the target runs the service binary's
 *   `--probe=PATH` inside it (`docker exec`, `kubectl exec`) and `judgeProbe` reads what it printed;
 * - after the cut-over, requests through service2's published address (Compose: the port on
 *   127.0.0.1; Kubernetes: a `kubectl port-forward`) answer the same way, several in a row.
 */
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { TIMESTAMP_PATH, TimestampSchema } from "@timekit/service1/contract";
import { FORMAT_PATH, FormattedSchema } from "@timekit/service2/contract";
import { GateFailed } from "../errors";
import type { ServiceName } from "../services";
import { backoff, pause } from "./interrupt";

/** Where the service binary is in every image (compose.yaml's healthcheck runs it too). */
export const SERVICE_BINARY = "/usr/local/bin/service";

const isTimestamp = TypeCompiler.Compile(TimestampSchema);
const isFormatted = TypeCompiler.Compile(FormattedSchema);

/** The route each service's probe asks, and the check of its answer. */
export const PROBES: Record<ServiceName, { path: string; valid: (body: unknown) => boolean }> = {
  service1: { path: TIMESTAMP_PATH, valid: (body) => isTimestamp.Check(body) },
  service2: { path: `${FORMAT_PATH}?pattern=yyyy-MM-dd`, valid: (body) => isFormatted.Check(body) },
};

/** The argv (after the exec prefix) that probes `service` inside its container. */
export function probeCommand(service: ServiceName): string[] {
  return [SERVICE_BINARY, `--probe=${PROBES[service].path}`];
}

export type ProbeVerdict =
  | { ok: true }
  | { ok: false; detail: string }
  /** The binary predates `--probe`: its routes can only be checked through service2 after the cut-over. */
  | { ok: "unsupported"; detail: string };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads what `<binary> --probe=PATH` printed (`HTTP <status>` then the body) and how it exited. */
export function judgeProbe(
  service: ServiceName,
  out: { exitCode: number | null; stdout: string; stderr: string },
): ProbeVerdict {
  if (out.exitCode === 2 && /unknown argument/.test(out.stderr)) {
    return { ok: "unsupported", detail: `its binary has no --probe (${out.stderr.trim().split("\n")[0]})` };
  }
  const newline = out.stdout.indexOf("\n");
  const statusLine = newline < 0 ? out.stdout : out.stdout.slice(0, newline);
  const body = newline < 0 ? "" : out.stdout.slice(newline + 1).trim();
  const status = /^HTTP (\d{3})$/.exec(statusLine.trim())?.[1];
  const path = PROBES[service].path;
  if (status === undefined) {
    const said = `${out.stdout}${out.stderr}`.trim().slice(0, 200) || "no output";
    return { ok: false, detail: `GET ${path} could not be run in the container (exit ${out.exitCode}): ${said}` };
  }
  if (status === "000") return { ok: false, detail: `GET ${path} got no answer (${body || "no detail"})` };
  if (status !== "200") return { ok: false, detail: `GET ${path} answered HTTP ${status}: ${body.slice(0, 200)}` };
  if (!PROBES[service].valid(parseJson(body))) {
    return {
      ok: false,
      detail: `GET ${path} answered 200 with a body that is not a valid answer: ${body.slice(0, 200)}`,
    };
  }
  return { ok: true };
}

export type ProbeResult = { ok: true } | { ok: false; detail: string };

/** One `GET /v1/format` through service2 at `baseUrl`, its body checked against service2's schema. */
export async function probeThroughService2(baseUrl: string): Promise<ProbeResult> {
  try {
    const response = await fetch(`${baseUrl}${PROBES.service2.path}`, {
      signal: AbortSignal.timeout(5000),
      headers: { "x-request-id": `deploy-gate-${Date.now()}` },
    });
    const body = await response.text();
    if (response.status === 200 && PROBES.service2.valid(parseJson(body))) return { ok: true };
    return { ok: false, detail: `HTTP ${response.status}: ${body.slice(0, 200)}` };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

export interface VerifyOptions {
  /** Answers in a row that must pass (service2 spreads calls over every service1 replica). */
  successes?: number;
  /** Aborts the wait (an interrupt). */
  signal?: AbortSignal | undefined;
}

/**
 * Probes until `successes` answers in a row pass or `timeoutMs` is over (service2 may still be
 * resolving new service1 addresses). `baseUrl` is asked again each round: an object means "not
 * reachable yet", with the reason; `afterFailure` says the last request failed (a cached address
 * may be stale). Throws GateFailed with the last answer.
 */
export async function verifyEndToEnd(
  baseUrl: (afterFailure: boolean) => Promise<string | { unreachable: string }>,
  timeoutMs: number,
  options: VerifyOptions = {},
): Promise<void> {
  const needed = options.successes ?? 1;
  const deadline = performance.now() + timeoutMs;
  let last = "";
  let streak = 0;
  let lastFailed = false;
  const wait = backoff(100, 1000);
  while (performance.now() < deadline) {
    options.signal?.throwIfAborted();
    const url = await baseUrl(lastFailed);
    const probe =
      typeof url === "string" ? await probeThroughService2(url) : { ok: false as const, detail: url.unreachable };
    lastFailed = !probe.ok;
    if (probe.ok) {
      streak++;
      if (streak >= needed) return;
      await pause(50, options.signal);
      continue;
    }
    streak = 0;
    last = probe.detail;
    await pause(wait(), options.signal);
  }
  throw new GateFailed(
    `no ${needed > 1 ? `${needed} requests in a row` : "request"} through service2 reached service1 within ${Math.round(timeoutMs / 1000)}s (last: ${last})`,
  );
}
