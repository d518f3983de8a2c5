/** `deploy.ts rollback [--service=S] [--to=V]`: back to an earlier good state. */
import type { ArgsDef } from "citty";
import type { RollbackTo } from "../../deploy/actions/rollback";
import { versionLabel } from "../../deploy/versions";
import { isServiceName, SERVICES } from "../../services";
import { openTarget } from "../../targets";
import { defineCommand } from "../command";
import {
  check,
  commonArgs,
  contextFor,
  gateArgs,
  healthTimeoutFrom,
  jsonArg,
  lockArgs,
  lockFrom,
  targetArgs,
  targetedOptions,
} from "../flags";
import { registry as checkRegistry, type Problems, version } from "../values";

const args = {
  service: { type: "string", description: "service1 or service2 (default: both)", valueHint: "service" },
  to: {
    type: "string",
    description:
      "A version recorded in history, or known-good: the image last promoted in --registry (default: the one before the current)",
    valueHint: "version",
  },
  registry: {
    type: "string",
    description: "With --to=known-good: the registry it was promoted in (env REGISTRY)",
    valueHint: "registry",
  },
  ...targetArgs,
  ...gateArgs,
  ...jsonArg,
  ...lockArgs,
  ...commonArgs,
} as const satisfies ArgsDef;

export default defineCommand({
  name: "rollback",
  description: "Put a service (default: both) back at its previous good version and settings, or at --to",
  args,
  options(values, io) {
    const problems: Problems = [];
    let fix: string | undefined;
    const service = values.service;
    if (service !== undefined && !isServiceName(service)) {
      problems.push(`--service=${JSON.stringify(service)} is not allowed; use service1 or service2`);
    }
    let to: RollbackTo | undefined;
    if (values.to !== undefined) {
      const spec = version("to", values.to, problems, "known-good, dev or a tag such as 1.2.3");
      if (spec?.kind === "known-good") {
        const registry = checkRegistry(values.registry ?? (io.env.REGISTRY || undefined), problems);
        if (registry) to = { kind: "known-good", registry };
        else if (values.registry === undefined && !io.env.REGISTRY) {
          problems.push(
            "--to=known-good names the image last promoted in a registry; give --registry=R (or env REGISTRY)",
          );
          fix = "e.g. bun deploy.ts rollback --service=service2 --to=known-good --registry=127.0.0.1:5000/timekit";
        }
      } else if (spec) to = { kind: "version", version: versionLabel(spec) };
    }
    check(problems, fix);
    return targetedOptions(values, io, (more) => ({
      services: service !== undefined && isServiceName(service) ? [service] : [...SERVICES],
      named: service !== undefined,
      to,
      timeoutMs: healthTimeoutFrom(values, more),
      lock: lockFrom(values, more),
    }));
  },
  async run(options, io) {
    const ctx = contextFor(options.common, io);
    const { rollback } = await import("../../deploy/actions/rollback");
    const k8s = options.target.kind === "compose" ? undefined : options.target.k8s;
    await rollback(await openTarget(options.target, ctx), ctx, { ...options, k8s });
  },
});
