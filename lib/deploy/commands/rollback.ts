import { defineCommand } from "citty";
import { commonArgs, gateArgs, jsonArg, lockArgs } from "../args";
import { contextFrom } from "../context";
import { type FlagValues, flagString } from "../flags";
import { kubeFlags, targetArgs } from "../targets/kube-args";

export default defineCommand({
  meta: {
    name: "rollback",
    description: "Put a service (default: both) back at its previous good version and settings, or at --to",
  },
  args: {
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
  },
  async run({ data }) {
    const args = data as FlagValues;
    const ctx = contextFrom(args);
    const kube = kubeFlags(args);
    const opts = {
      service: flagString(args, "service"),
      to: flagString(args, "to"),
      registry: flagString(args, "registry"),
      healthTimeout: flagString(args, "health_timeout"),
      lockWait: flagString(args, "lock_wait"),
      forceUnlock: args.force_unlock === true,
    };
    if (kube) await (await import("../targets/kube")).kubeRollback(ctx, kube.target, kube.kube, opts);
    else await (await import("../apply")).rollback(ctx, opts);
  },
});
