/** The restricted Pod Security profile, resources, image references, probes and shutdown. */
import type { IProbe } from "kubernetes-models/v1";
import { defaultEnv } from "../../settings";
import type { PodTemplate } from "../objects";
import { type Context, containerEnv, containersOf, parseQuantity, type Report, resolvePort } from "./context";

/* ---------------------------------------------------- pod security profile */

export function checkPodSecurity(context: Context, report: Report): void {
  for (const template of context.templates) {
    const { owner, spec, path } = template;
    const pod = spec.securityContext ?? {};
    if (spec.automountServiceAccountToken !== false) {
      report("pod.service-account-token", owner, `${path}.automountServiceAccountToken must be false`);
    }
    if (spec.enableServiceLinks !== false) {
      report("pod.service-links", owner, `${path}.enableServiceLinks must be false`);
    }
    if (spec.hostNetwork || spec.hostPID || spec.hostIPC) {
      report("pod.host-access", owner, `${path} must not set hostNetwork, hostPID or hostIPC`);
    }
    for (const volume of spec.volumes ?? []) {
      if (volume.hostPath) report("pod.host-access", owner, `volume ${volume.name} must not be a hostPath`);
    }
    for (const { container, path: where } of containersOf(template)) {
      const own = container.securityContext ?? {};
      if ((own.runAsNonRoot ?? pod.runAsNonRoot) !== true) {
        report("pod.run-as-non-root", owner, `${where} must run with runAsNonRoot: true`);
      }
      const uid = own.runAsUser ?? pod.runAsUser;
      if (uid !== context.uid) {
        report("pod.run-as-user", owner, `${where} runs as UID ${uid ?? "(image default)"}, expected ${context.uid}`);
      }
      const seccomp = (own.seccompProfile ?? pod.seccompProfile)?.type;
      if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
        report("pod.seccomp", owner, `${where} seccompProfile.type is ${seccomp ?? "unset"}, expected RuntimeDefault`);
      }
      if (own.allowPrivilegeEscalation !== false) {
        report(
          "container.privilege-escalation",
          owner,
          `${where}.securityContext.allowPrivilegeEscalation must be false`,
        );
      }
      if (own.privileged === true) report("container.privileged", owner, `${where} must not be privileged`);
      if (own.readOnlyRootFilesystem !== true) {
        report("container.read-only-root", owner, `${where}.securityContext.readOnlyRootFilesystem must be true`);
      }
      const caps = own.capabilities ?? {};
      const added = (caps.add ?? []).filter((cap) => cap !== "NET_BIND_SERVICE");
      if (!(caps.drop ?? []).includes("ALL") || added.length > 0) {
        report("container.capabilities", owner, `${where} must drop ALL capabilities and add none (adds: ${added})`);
      }
      for (const port of container.ports ?? []) {
        if (port.hostPort) report("pod.host-access", owner, `${where} must not use hostPort ${port.hostPort}`);
      }
    }
  }
}

/* ------------------------------------------------- containers and images */

export function checkResources(context: Context, report: Report): void {
  for (const template of context.templates) {
    for (const { container, path } of containersOf(template)) {
      const { requests = {}, limits = {} } = container.resources ?? {};
      for (const resource of ["cpu", "memory"] as const) {
        const request = parseQuantity(requests[resource]);
        const limit = parseQuantity(limits[resource]);
        if (!(request > 0) || !(limit > 0)) {
          report("container.resources", template.owner, `${path} must set requests.${resource} and limits.${resource}`);
        } else if (limit < request) {
          report("container.resources", template.owner, `${path} limits.${resource} is below requests.${resource}`);
        }
      }
    }
  }
}

/** `repo:tag`, `repo@sha256:…` or both; no tag and no digest means `latest`. */
export function checkImages(context: Context, report: Report): void {
  for (const template of context.templates) {
    for (const { container, path } of containersOf(template)) {
      const image = container.image ?? "";
      const [name = "", digest] = image.split("@", 2);
      const colon = name.lastIndexOf(":");
      const tag = colon > name.lastIndexOf("/") ? name.slice(colon + 1) : undefined;
      if (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest)) {
        report("container.image", template.owner, `${path} image ${image} has a malformed digest`);
      } else if (tag === "latest") {
        report("container.image", template.owner, `${path} image ${image} uses the floating tag latest`);
      } else if (!tag && !digest) {
        report("container.image", template.owner, `${path} image ${JSON.stringify(image)} names no tag or digest`);
      }
    }
  }
}

/* --------------------------------------------------------------- workloads */

function probeProblem(template: PodTemplate, probe: IProbe | undefined, path: string): string | undefined {
  if (!probe) return "is missing";
  if (!probe.httpGet) return "must be an httpGet probe";
  if (probe.httpGet.path !== path) return `must GET ${path}, not ${probe.httpGet.path}`;
  if (!resolvePort(template, probe.httpGet.port)) return `port ${probe.httpGet.port} is not a declared container port`;
  return undefined;
}

export function checkWorkloads(context: Context, report: Report): void {
  const defaults = defaultEnv("service1");
  for (const template of context.workloads) {
    const { owner, spec, path } = template;
    let longestStopSeconds = 0;
    for (const [index, container] of spec.containers.entries()) {
      const where = `${path}.containers[${index}]`;
      const probes: [string, IProbe | undefined, string][] = [
        ["startupProbe", container.startupProbe, "/healthz"],
        ["livenessProbe", container.livenessProbe, "/healthz"],
        ["readinessProbe", container.readinessProbe, "/readyz"],
      ];
      for (const [name, probe, route] of probes) {
        const problem = probeProblem(template, probe, route);
        if (problem) report("workload.probes", owner, `${where}.${name} ${problem}`);
      }

      const sleep = container.lifecycle?.preStop?.sleep?.seconds;
      if (!sleep || sleep < 1) {
        report("workload.prestop", owner, `${where}.lifecycle.preStop.sleep.seconds must be at least 1`);
      }
      const env = containerEnv(context, template, container);
      const drainMs =
        Number(env.SHUTDOWN_DELAY_MS ?? defaults.SHUTDOWN_DELAY_MS) +
        Number(env.DRAIN_TIMEOUT_MS ?? defaults.DRAIN_TIMEOUT_MS);
      longestStopSeconds = Math.max(longestStopSeconds, (sleep ?? 0) + Math.ceil(drainMs / 1000) + 1);

      if (env.PORT !== undefined && !container.ports?.some((port) => port.containerPort === Number(env.PORT))) {
        report("workload.port", owner, `${where} listens on PORT=${env.PORT} but declares no such containerPort`);
      }
    }
    const grace = spec.terminationGracePeriodSeconds ?? 30;
    if (grace < longestStopSeconds) {
      report(
        "workload.grace-period",
        owner,
        `${path}.terminationGracePeriodSeconds is ${grace}; the preStop pause, shutdown delay and drain need ${longestStopSeconds}`,
      );
    }
  }
}
