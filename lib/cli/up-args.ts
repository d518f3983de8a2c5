/** `up`'s flags: what to deploy, where, and how; each "unset" means what runs (lib/deploy/reuse.ts). */
import type { ArgsDef } from "citty";
import { DEFAULT_LIMITS } from "../deploy/plan";
import { LOCAL_REPOSITORY } from "../images/registry";
import { MAX_REPLICAS } from "../limits";
import { edgeArgs } from "./edge-flags";
import { commonArgs, gateArgs, jsonArg, k8sUpArgs, lockArgs, targetArgs } from "./flags";
import { settingArgs } from "./settings-flags";
import { VERSION_HELP } from "./values";
export const upArgs = {
  version_service1: {
    type: "string",
    description: `service1 version: ${VERSION_HELP} (unset: what runs; dev on a first deploy)`,
    valueHint: "version",
  },
  version_service2: {
    type: "string",
    description: `service2 version: ${VERSION_HELP} (unset: what runs; dev on a first deploy)`,
    valueHint: "version",
  },
  additional_param_1: {
    type: "string",
    description: `Number of service1 replicas behind service2, 1-${MAX_REPLICAS} (unset: what runs; 1 on a first deploy)`,
    valueHint: "n",
  },
  replicas_service1: { type: "string", description: "Same as --additional_param_1", valueHint: "n" },
  ...edgeArgs,
  port: {
    type: "string",
    description:
      "Port on 127.0.0.1 where the edge (or service2 published directly) listens (unset: what runs; 8080 on a first deploy; 0 picks a free one)",
    valueHint: "port",
  },
  env_file_service1: { type: "string", description: "Extra KEY=VALUE settings for service1", valueHint: "file" },
  env_file_service2: { type: "string", description: "Extra KEY=VALUE settings for service2", valueHint: "file" },
  registry: {
    type: "string",
    description: "Registry to pull published tags from, e.g. 127.0.0.1:5000/timekit (env REGISTRY)",
    valueHint: "registry",
  },
  from_archive: {
    type: "string",
    description:
      "Load published versions from the signed S-X.Y.Z.tar.gz archives in DIR (known-good: DIR's known-good record)",
    valueHint: "dir",
  },
  local_repository: {
    type: "string",
    description: `Local repository where dev builds and pinned images are tagged (default ${LOCAL_REPOSITORY}; tests use their own)`,
    valueHint: "repo",
  },
  mem_limit: {
    type: "string",
    description: `Compose: memory limit of each container, e.g. 256m (unset: what runs; ${DEFAULT_LIMITS.memory} on a first deploy)`,
    valueHint: "size",
  },
  cpus: {
    type: "string",
    description: `Compose: CPU limit of each container, e.g. 0.5 (unset: what runs; ${DEFAULT_LIMITS.cpus} on a first deploy)`,
    valueHint: "n",
  },
  allow_untrusted_archive: {
    type: "boolean",
    description:
      "With --from_archive: also deploy archives that are unsigned or signed by no trusted key (release-keys/, <state dir>/trusted-keys/)",
  },
  ...gateArgs,
  ...(settingArgs as Record<string, { type: "string"; description: string; valueHint: string }>),
  ...targetArgs,
  ...k8sUpArgs,
  file: {
    type: "string",
    description:
      "A deploy file (YAML): up's flags as keys, e.g. version_service1: 1.2.3; flags given here win; its path goes to history",
    valueHint: "file",
  },
  reset: {
    type: "boolean",
    description: "Start from the defaults: settings not given go back to their defaults instead of keeping what runs",
  },
  dry_run: {
    type: "boolean",
    description:
      "Print what would change from what runs, and the plan (k8s/helm: the rendered, checked manifests); change nothing",
  },
  ...jsonArg,
  ...lockArgs,
  ...commonArgs,
} as const satisfies ArgsDef;
