/**
 * The plan: what a deploy should leave running. Built once from the flags (validated completely
 * before anything runs), printed by `--dry-run`, applied by a target (Compose today; Kubernetes
 * and Helm later read the same model), and recorded in history so rollback can restore it.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { UsageErrors } from "./errors";
import { checkParam, PARAMS, parseDuration, parseInteger, SERVICES, type ServiceName } from "./params";
import { type KubeSettings, type Target, targetFrom } from "./targets/kube-args";
import { parseVersion, VERSION_HELP, type VersionSpec, versionLabel } from "./versions";

/** What one service runs: enough to start it again exactly (rollback) and to report it (status). */
export interface ServiceState {
  /** `dev` or the published tag, without a leading `v`. */
  version: string;
  /** The image reference the target runs. */
  image: string;
  /** Content address (repo digest or image id), known once the image is resolved. */
  digest: string | null;
  replicas: number;
  /** Settings handed to the container as environment variables. */
  env: Record<string, string>;
}

export type ImageSource =
  | { kind: "build" }
  | { kind: "registry"; registry: string }
  | { kind: "archive"; dir: string }
  | { kind: "local" }
  /** An image already pinned by an earlier deploy (rollback). */
  | { kind: "pinned" };

export interface ServicePlan extends ServiceState {
  name: ServiceName;
  source: ImageSource;
}

export interface Plan {
  target: Target;
  /** --target=k8s|helm: namespace, context, overlay, image loading. */
  kube?: KubeSettings;
  project: string;
  services: Record<ServiceName, ServicePlan>;
  /** service2's published port on 127.0.0.1 (0: let the engine pick). */
  port: number;
  gate: { timeoutMs: number };
}

/** Local repository names; a registry prefix is added for pulled images. */
export const LOCAL_REPO = "timekit";

export const DEFAULT_PROJECT = "timekit";
export const DEFAULT_PORT = 8080;
export const DEFAULT_HEALTH_TIMEOUT_MS = 60_000;
export const MAX_REPLICAS = 20;

/** Settings the target wires itself; overriding them would break the stack. */
const RESERVED_ENV = new Set(["PORT", "HOST", "SERVICE1_URL"]);

export type RawArgs = Record<string, unknown>;

function str(args: RawArgs, name: string): string | undefined {
  const value = args[name];
  if (value === undefined || value === null) return undefined;
  return String(value);
}

/** Compose project names: lowercase letters, digits, `-` and `_`, starting with a letter or digit. */
export function checkProject(value: string): string | null {
  return /^[a-z0-9][a-z0-9_-]{0,62}$/.test(value)
    ? null
    : `--project=${JSON.stringify(value)} is not allowed; use lowercase letters, digits, "-" and "_", starting with a letter or digit`;
}

export function projectFrom(args: RawArgs): string {
  return str(args, "project") || Bun.env.TIMEKIT_PROJECT || Bun.env.COMPOSE_PROJECT_NAME || DEFAULT_PROJECT;
}

/** `host[:port][/path]` without scheme, tag or trailing slash. */
export function checkRegistry(value: string): string | null {
  return /^[a-zA-Z0-9.-]+(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(value)
    ? null
    : `--registry=${JSON.stringify(value)} is not allowed; use host[:port][/path] without a scheme, e.g. 127.0.0.1:5000/timekit`;
}

/** Parses a KEY=VALUE file (blank lines and # comments allowed). Problems go into `problems`. */
export function readEnvFile(path: string, flag: string, problems: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  if (!existsSync(path)) {
    problems.push(`--${flag}=${JSON.stringify(path)}: no such file`);
    return env;
  }
  const lines = readFileSync(path, "utf8").split(/\r?\n/);
  lines.forEach((line, index) => {
    const text = line.trim();
    if (text === "" || text.startsWith("#")) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(text);
    if (!match?.[1]) {
      problems.push(`--${flag}: ${path}:${index + 1} is not KEY=VALUE`);
      return;
    }
    const key = match[1];
    let value = match[2] ?? "";
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    if (RESERVED_ENV.has(key)) {
      problems.push(`--${flag}: ${path}:${index + 1} sets ${key}, which the deploy wires itself; remove it`);
      return;
    }
    env[key] = value;
  });
  return env;
}

function imageFor(service: ServiceName, spec: VersionSpec, source: ImageSource): string {
  if (spec.kind === "dev") return `${LOCAL_REPO}/${service}:dev`;
  const tag = versionLabel(spec);
  if (source.kind === "registry") return `${source.registry}/${service}:${tag}`;
  return `${LOCAL_REPO}/${service}:${tag}`;
}

/**
 * Validates every flag of `up` and builds the plan. Throws UsageErrors listing every problem at
 * once; runs no external command.
 */
export function buildPlan(args: RawArgs, env: Record<string, string | undefined> = Bun.env): Plan {
  const problems: string[] = [];

  const { target, kube } = targetFrom(args, env, problems);
  const project = projectFrom(args);
  const projectProblem = checkProject(project);
  if (projectProblem) problems.push(projectProblem);

  const registry = str(args, "registry") || env.REGISTRY || undefined;
  if (registry) {
    const p = checkRegistry(registry);
    if (p) problems.push(p);
  }
  const archive = str(args, "from_archive");
  let archiveDir: string | undefined;
  if (archive !== undefined) {
    archiveDir = resolve(archive);
    if (archive === "" || !existsSync(archiveDir)) {
      problems.push(`--from_archive=${JSON.stringify(archive)}: no such directory`);
    }
  }

  const primary = str(args, "additional_param_1");
  const alias = str(args, "replicas_service1");
  if (primary !== undefined && alias !== undefined && primary !== alias && primary !== "1") {
    problems.push(
      `--additional_param_1=${primary} and --replicas_service1=${alias} disagree; they are the same setting, give one`,
    );
  }
  const replicasRaw = alias !== undefined && (primary === undefined || primary === "1") ? alias : (primary ?? "1");
  const replicas = parseInteger(replicasRaw, 1, MAX_REPLICAS);
  if (replicas === null) {
    problems.push(
      `--additional_param_1=${JSON.stringify(replicasRaw)} is not allowed; it is the service1 replica count, a whole number from 1 to ${MAX_REPLICAS}`,
    );
  }

  const portRaw = str(args, "port");
  let port = DEFAULT_PORT;
  if (portRaw !== undefined) {
    const p = parseInteger(portRaw, 0, 65535);
    if (p === null)
      problems.push(
        `--port=${JSON.stringify(portRaw)} is not allowed; use a TCP port from 1 to 65535, or 0 for any free port`,
      );
    else port = p;
  }

  const timeoutRaw = str(args, "health_timeout");
  let timeoutMs = DEFAULT_HEALTH_TIMEOUT_MS;
  if (timeoutRaw !== undefined) {
    const ms = parseDuration(timeoutRaw);
    if (ms === null || ms < 1000 || ms > 3_600_000) {
      problems.push(
        `--health_timeout=${JSON.stringify(timeoutRaw)} is not allowed; use a duration from 1s to 1h, e.g. 30s or 2m`,
      );
    } else timeoutMs = ms;
  }

  const specs = {} as Record<ServiceName, VersionSpec>;
  for (const service of SERVICES) {
    const raw = str(args, `version_${service}`) ?? "dev";
    const spec = parseVersion(raw);
    if (!spec) {
      problems.push(`--version_${service}=${JSON.stringify(raw)} is not a version; use ${VERSION_HELP}`);
      specs[service] = { kind: "dev" };
    } else if (spec.kind === "known-good" && (!registry || archiveDir)) {
      problems.push(
        `--version_${service}=known-good names the image promoted in a registry; give --registry=R (or env REGISTRY)${archiveDir ? " and not --from_archive" : ""}`,
      );
      specs[service] = spec;
    } else specs[service] = spec;
  }

  const envs = {} as Record<ServiceName, Record<string, string>>;
  for (const service of SERVICES) {
    const file = str(args, `env_file_${service}`);
    envs[service] = file !== undefined ? readEnvFile(resolve(file), `env_file_${service}`, problems) : {};
  }
  for (const spec of PARAMS) {
    const raw = str(args, spec.flag);
    if (raw === undefined) continue;
    const checked = checkParam(spec, raw);
    if ("error" in checked) problems.push(checked.error);
    else envs[spec.service][spec.env] = checked.value;
  }

  if (problems.length > 0) throw new UsageErrors(problems);

  const services = {} as Record<ServiceName, ServicePlan>;
  for (const service of SERVICES) {
    const spec = specs[service];
    const source: ImageSource =
      spec.kind === "dev"
        ? { kind: "build" }
        : spec.kind === "known-good" && registry
          ? { kind: "registry", registry }
          : archiveDir
            ? { kind: "archive", dir: archiveDir }
            : registry
              ? { kind: "registry", registry }
              : { kind: "local" };
    services[service] = {
      name: service,
      version: versionLabel(spec),
      image: imageFor(service, spec, source),
      digest: null,
      replicas: service === "service1" ? (replicas ?? 1) : 1,
      env: sortKeys(envs[service]),
      source,
    };
  }
  return { target, ...(kube ? { kube } : {}), project, services, port, gate: { timeoutMs } };
}

function sortKeys(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b)));
}

/** True when running `next` needs the service's containers replaced. */
export function serviceChanged(current: ServiceState | null, next: ServiceState): boolean {
  if (!current) return true;
  return (
    current.image !== next.image ||
    (current.digest !== null && next.digest !== null && current.digest !== next.digest) ||
    current.replicas !== next.replicas ||
    JSON.stringify(sortKeys(current.env)) !== JSON.stringify(sortKeys(next.env))
  );
}

/** The plan as users read it in `--dry-run`. */
export function describePlan(plan: Plan): string {
  const lines = [`plan for project ${plan.project} (target ${plan.target}):`];
  for (const service of SERVICES) {
    const s = plan.services[service];
    const from =
      s.source.kind === "build"
        ? "build from the working tree"
        : s.source.kind === "registry"
          ? `pull from ${s.source.registry}`
          : s.source.kind === "archive"
            ? `load ${service}-${s.version}.tar.gz from ${s.source.dir}`
            : s.source.kind === "local"
              ? "use the local image"
              : "use the image as pinned";
    const env = Object.entries(s.env).map(([k, v]) => `${k}=${v}`);
    lines.push(
      `  ${service}: version ${s.version}, image ${s.image} (${from}), replicas ${s.replicas}${env.length ? `, env ${env.join(" ")}` : ""}`,
    );
  }
  lines.push(
    `  service2 published on 127.0.0.1:${plan.port === 0 ? "<any free port>" : plan.port}; health gate ${plan.gate.timeoutMs / 1000}s per service`,
  );
  return lines.join("\n");
}

/** What `status` reports for one service, whatever the target. */
export interface ServiceStatus {
  version: string | null;
  image: string | null;
  digest: string | null;
  replicas: number;
  health: string;
  url: string | null;
}
