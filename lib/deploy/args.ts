/**
 * Flag definitions shared by the subcommands. Kept free of imports with side effects: the entry
 * loads this for `--help` and for citty's parsing before any subcommand module is loaded.
 */
import type { ArgsDef } from "citty";
import { PARAMS } from "./params";
import { kubeUpArgs, targetArgs } from "./targets/kube-args";
import { VERSION_HELP } from "./versions";

/** Every subcommand takes these: which stack, where its state lives, how chatty. */
export const commonArgs = {
  project: {
    type: "string",
    description: "Compose project name (env TIMEKIT_PROJECT or COMPOSE_PROJECT_NAME)",
    valueHint: "name",
  },
  state_dir: {
    type: "string",
    description: "Where history and the deploy lock live (env TIMEKIT_STATE_DIR; default .state/ in the project)",
    valueHint: "dir",
  },
  quiet: { type: "boolean", description: "Print only errors and the final result" },
} as const satisfies ArgsDef;

export const jsonArg = {
  json: { type: "boolean", description: "Print machine-readable JSON on stdout" },
} as const satisfies ArgsDef;

/** Taking the deploy lock: shared by every command that changes the stack. */
export const lockArgs = {
  lock_wait: {
    type: "string",
    description: "Wait this long for another deploy to finish (e.g. 30s) instead of failing at once",
    valueHint: "duration",
  },
  force_unlock: {
    type: "boolean",
    description: "Take the deploy lock even if another deploy holds it (only when that one is gone)",
  },
} as const satisfies ArgsDef;

export const gateArgs = {
  health_timeout: {
    type: "string",
    description: "How long each service may take to become healthy and answer (default 60s)",
    valueHint: "duration",
  },
} as const satisfies ArgsDef;

export const sourceArgs = {
  registry: {
    type: "string",
    description: "Registry to pull published tags from, e.g. 127.0.0.1:5000/timekit (env REGISTRY)",
    valueHint: "registry",
  },
  from_archive: {
    type: "string",
    description: "Load published tags from S-X.Y.Z.tar.gz archives (checked against .sha256) in DIR",
    valueHint: "dir",
  },
} as const satisfies ArgsDef;

const paramArgs: ArgsDef = Object.fromEntries(
  PARAMS.map((p) => [
    p.flag,
    {
      type: "string",
      description: p.kind.type === "enum" ? `${p.description} One of: ${p.kind.options.join(", ")}.` : p.description,
      // Short hints keep `--help` narrow; the choices are listed in the description.
      valueHint:
        p.kind.type === "enum"
          ? (p.flag
              .replace(/_service\d$/, "")
              .split("_")
              .pop() ?? "value")
          : p.kind.type,
    },
  ]),
);

/** `up` — and the root command, since `up` is the default. */
export const upArgs = {
  version_service1: {
    type: "string",
    description: `service1 version: ${VERSION_HELP}`,
    default: "dev",
    valueHint: "version",
  },
  version_service2: {
    type: "string",
    description: `service2 version: ${VERSION_HELP}`,
    default: "dev",
    valueHint: "version",
  },
  additional_param_1: {
    type: "string",
    description: "Number of service1 replicas behind service2, 1-20",
    default: "1",
    valueHint: "n",
  },
  replicas_service1: { type: "string", description: "Same as --additional_param_1", valueHint: "n" },
  port: {
    type: "string",
    description: "Port on 127.0.0.1 where service2 is published (default 8080; 0 picks a free one)",
    valueHint: "port",
  },
  env_file_service1: { type: "string", description: "Extra KEY=VALUE settings for service1", valueHint: "file" },
  env_file_service2: { type: "string", description: "Extra KEY=VALUE settings for service2", valueHint: "file" },
  ...sourceArgs,
  ...gateArgs,
  ...paramArgs,
  ...targetArgs,
  ...kubeUpArgs,
  dry_run: {
    type: "boolean",
    description: "Print the plan (k8s/helm: the rendered, checked manifests) and change nothing",
  },
  ...jsonArg,
  ...lockArgs,
  ...commonArgs,
} as const satisfies ArgsDef;

/** `build`, `publish`, `promote`: one service, one release version. */
export const releaseArgs = {
  service: { type: "string", description: "service1 or service2 (required)", valueHint: "service" },
  version: {
    type: "string",
    description: "Release version X.Y.Z or X.Y.Z-pre.N (a leading v is dropped)",
    valueHint: "X.Y.Z",
  },
} as const satisfies ArgsDef;

export const releaseOutputArgs = {
  ...jsonArg,
  quiet: { type: "boolean", description: "Print only errors and the final result" },
} as const satisfies ArgsDef;
