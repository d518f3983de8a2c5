/**
 * Shared by the Kubernetes suites: finds (or installs) kubectl and helm once, and gates suites on
 * them. A missing tool skips the suite with one line, except under CI=true, where it fails.
 */
import { describe, test } from "bun:test";
import { type Rendered, type RenderInput, render } from "../../lib/k8s/render";
import { findHelm, findKubectl } from "../../lib/k8s/tools";

type Tool = "kubectl" | "helm";

async function attempt(find: () => Promise<string>): Promise<string | Error> {
  try {
    return await find();
  } catch (error) {
    return error as Error;
  }
}

const found: Record<Tool, string | Error> = {
  kubectl: await attempt(() => findKubectl()),
  helm: await attempt(() => findHelm()),
};

/** The tool's path; call only inside a describeWith() body. */
export function tool(name: Tool): string {
  const value = found[name];
  if (value instanceof Error) throw value;
  return value;
}

/** describe() for a suite that needs tools: runs, skips with a reason, or fails under CI=true. */
export function describeWith(tools: readonly Tool[], name: string, body: () => void): void {
  const missing = tools.map((t) => found[t]).filter((value): value is Error => value instanceof Error);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const reason = missing.map((error) => error.message).join("; ");
  if (Bun.env.CI === "true") {
    describe(name, () => {
      test("has the tools it needs (CI=true makes a missing tool a failure)", () => {
        throw new Error(reason);
      });
    });
    return;
  }
  console.log(`skip ${name}: ${reason}`);
  describe.skip(name, body);
}

/** Renders the suites share, once per input. */
const cache = new Map<string, Promise<Rendered>>();

export function rendered(how: "raw" | "helm", input: RenderInput): Promise<Rendered> {
  const key = `${how}:${JSON.stringify(input)}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = render(how, input);
    cache.set(key, pending);
  }
  return pending;
}

/** Every setting moved off its default, a registry with a port, digests, replicas, an Ingress. */
export function customInput(overlay: RenderInput["overlay"]): RenderInput {
  return {
    namespace: "timekit-staging",
    overlay,
    ingress: { host: "time.example.test", className: "nginx" },
    services: {
      service1: {
        image: "127.0.0.1:5000/timekit/service1",
        tag: "1.2.3",
        digest: `sha256:${"1".repeat(64)}`,
        replicas: 5,
        env: {
          PORT: "9090",
          LOG_LEVEL: "debug",
          MAX_BODY_BYTES: "4096",
          SHUTDOWN_DELAY_MS: "2000",
          DRAIN_TIMEOUT_MS: "15000",
        },
      },
      service2: {
        image: "127.0.0.1:5000/timekit/service2",
        tag: "1.3.0-rc.1",
        replicas: 2,
        maxReplicas: 8,
        env: {
          HOST: "::",
          LOG_LEVEL: "warn",
          SERVICE1_TIMEOUT_MS: "1500",
          SERVICE1_ATTEMPT_TIMEOUT_MS: "600",
          SERVICE1_RETRIES: "3",
          SERVICE1_RETRY_BACKOFF_MS: "40",
          SERVICE1_RESOLVE_INTERVAL_MS: "1500",
        },
      },
    },
  };
}

/** Long enough for renders on a busy 2-core machine. */
export const RENDER_TIMEOUT_MS = 60_000;
