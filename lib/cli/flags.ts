/**
 * Flags several commands share, and the options they become: which project and state directory,
 * how chatty, the deploy lock, the health gate, and the target (Compose, or Kubernetes with its
 * namespace, context, overlay and image loading).
 */

import { join, resolve } from "node:path";
import type { ArgsDef } from "citty";
import type { LockOptions } from "../deploy/actions/up";
import { IMAGE_LOADERS, type K8sSettings, TARGETS, type TargetKind } from "../deploy/plan";
import { PROGRESS_MODES, Progress, type ProgressMode } from "../deploy/progress";
import { UsageError } from "../errors";
import type { Io } from "../io";
import { OVERLAYS } from "../k8s/input";
import { DEFAULT_HEALTH_TIMEOUT_MS, MAX_HEALTH_TIMEOUT_MS, MAX_LOCK_WAIT_MS, MIN_HEALTH_TIMEOUT_MS } from "../limits";
import { COMPOSE_FILE, DEFAULT_STATE_DIR } from "../paths";
import type { TargetSettings } from "../targets";
import type { ComposeSettings } from "../targets/compose";
import type { TargetContext } from "../targets/target";
import { project as checkProject, choice, duration, type Problems } from "./values";

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
  progress: {
    type: "string",
    description:
      "How steps are reported on stderr: text (default), or json: one object per line, each step's start and end",
    valueHint: "format",
  },
} as const satisfies ArgsDef;

export const jsonArg = {
  json: { type: "boolean", description: "Print machine-readable JSON on stdout" },
} as const satisfies ArgsDef;

export const quietArg = {
  quiet: { type: "boolean", description: "Print only errors and the final result" },
} as const satisfies ArgsDef;

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

export const targetArgs = {
  target: {
    type: "string",
    description: "Where to deploy: compose (default), k8s (raw manifests via kustomize) or helm (env TIMEKIT_TARGET)",
    valueHint: "target",
  },
  namespace: {
    type: "string",
    description: "k8s/helm: Kubernetes namespace, a DNS label (default timekit)",
    valueHint: "name",
  },
  context: {
    type: "string",
    description: "k8s/helm: kubeconfig context for kubectl and helm (default: the current context)",
    valueHint: "context",
  },
} as const satisfies ArgsDef;

/** Only `up` renders: the overlay and image loading. */
export const k8sUpArgs = {
  overlay: {
    type: "string",
    description: "k8s/helm: cluster flavour, sets how service2 is exposed (base, kind, minikube, docker-desktop)",
    valueHint: "overlay",
  },
  load_images: {
    type: "string",
    description:
      "k8s/helm: copy the images from the local Docker engine into the cluster: kind, minikube, none, or auto (from the context name: kind-* or minikube; the default)",
    valueHint: "mode",
  },
} as const satisfies ArgsDef;

export interface Common {
  project: string;
  /** `<state dir>/<project>`. */
  stateDir: string;
  /** The state dir as given (every directory from it down is checked for symlinks). */
  stateRoot: string;
  quiet: boolean;
  progress: ProgressMode;
}

type CommonValues = {
  project?: string | undefined;
  state_dir?: string | undefined;
  quiet: boolean;
  progress?: string | undefined;
};

export function commonFrom(values: CommonValues, io: Io, problems: Problems): Common {
  const project = checkProject(
    values.project || io.env.TIMEKIT_PROJECT || io.env.COMPOSE_PROJECT_NAME || "timekit",
    problems,
  );
  const base = resolve(values.state_dir || io.env.TIMEKIT_STATE_DIR || DEFAULT_STATE_DIR);
  const progress = choice("progress", values.progress, PROGRESS_MODES, problems) ?? "text";
  return { project, stateDir: join(base, project), stateRoot: base, quiet: values.quiet, progress };
}

/** What a command hands its target and actions. */
export function contextFor(common: Common, io: Io): TargetContext {
  return {
    project: common.project,
    stateDir: common.stateDir,
    stateRoot: common.stateRoot,
    progress: new Progress(io, common.quiet, common.progress),
    io,
  };
}

export function lockFrom(
  values: { lock_wait?: string | undefined; force_unlock: boolean },
  problems: Problems,
): LockOptions {
  const waitMs = duration(
    "lock_wait",
    values.lock_wait,
    { min: 0, max: MAX_LOCK_WAIT_MS },
    "use a duration up to 1h, e.g. 30s",
    problems,
  );
  return { waitMs: waitMs ?? 0, force: values.force_unlock };
}

export function healthTimeoutFrom(values: { health_timeout?: string | undefined }, problems: Problems): number {
  return (
    duration(
      "health_timeout",
      values.health_timeout,
      { min: MIN_HEALTH_TIMEOUT_MS, max: MAX_HEALTH_TIMEOUT_MS },
      "use a duration from 1s to 1h, e.g. 30s or 2m",
      problems,
    ) ?? DEFAULT_HEALTH_TIMEOUT_MS
  );
}

/** Compose file and command (TIMEKIT_COMPOSE_FILE, TIMEKIT_COMPOSE) and the edge's Caddyfile (TIMEKIT_EDGE_CONFIG). */
export function composeSettings(io: Io): ComposeSettings {
  const { TIMEKIT_COMPOSE_FILE: file, TIMEKIT_COMPOSE: command, TIMEKIT_EDGE_CONFIG: edge } = io.env;
  return { composeFile: file || COMPOSE_FILE, forcedCommand: command, edgeConfig: edge || undefined };
}

/** RFC 1123 label: what Kubernetes accepts as a namespace name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

type TargetValues = {
  target?: string | undefined;
  namespace?: string | undefined;
  context?: string | undefined;
  overlay?: string | undefined;
  load_images?: string | undefined;
  port?: string | undefined;
};

/**
 * `--target` (env TIMEKIT_TARGET) and, for k8s/helm, the Kubernetes flags; Kubernetes flags on the
 * Compose target and `--port` on a Kubernetes one are problems too.
 */
export function targetFrom(values: TargetValues, io: Io, problems: Problems): TargetSettings {
  const kind: TargetKind =
    choice("target", values.target ?? (io.env.TIMEKIT_TARGET || undefined), TARGETS, problems) ?? "compose";
  if (kind === "compose") {
    for (const flag of ["namespace", "context", "overlay", "load_images"] as const) {
      if (values[flag] !== undefined)
        problems.push(`--${flag} applies to --target=k8s or --target=helm, not to the Compose target`);
    }
    return { kind, compose: composeSettings(io) };
  }
  if (values.port !== undefined) {
    problems.push(
      `--port is the Compose target's published port; with --target=${kind} the health gate reaches service2 through the cluster, so drop --port`,
    );
  }
  const namespace = values.namespace ?? "timekit";
  if (!DNS_LABEL.test(namespace)) {
    problems.push(
      `--namespace=${JSON.stringify(namespace)} is not allowed; use an RFC 1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters`,
    );
  }
  const context = values.context;
  if (context !== undefined && (context.length > 253 || /[\s\p{Cc}]/u.test(context))) {
    problems.push(
      `--context=${JSON.stringify(context)} is not allowed; name a kubeconfig context (see \`kubectl config get-contexts\`)`,
    );
  }
  const k8s: K8sSettings = {
    namespace,
    context: context ?? null,
    overlay: choice("overlay", values.overlay, OVERLAYS, problems) ?? "base",
    loadImages: choice("load_images", values.load_images, IMAGE_LOADERS, problems) ?? "auto",
  };
  return { kind, k8s };
}

/**
 * The options of a command run against a target: the target, the project, and the command's
 * own (read by `own`), every problem thrown at once.
 */
export function targetedOptions<T>(
  values: TargetValues & CommonValues,
  io: Io,
  own: (problems: Problems) => T,
): { target: TargetSettings; common: Common } & T {
  const problems: Problems = [];
  const options = {
    target: targetFrom(values, io, problems),
    common: commonFrom(values, io, problems),
    ...own(problems),
  };
  check(problems);
  return options;
}

/** Throws every collected problem at once. */
export function check(problems: Problems, fix?: string): void {
  if (problems.length > 0) throw new UsageError(problems, fix);
}
