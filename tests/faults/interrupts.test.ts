/**
 * Fault injection: the CLI stopped at every step of an upgrade of service1, of service2, and of
 * a rollback, under steady load through service2. Each case starts a deploy with
 * `--progress=json`, waits for the step's start event (the journal already announced it) and
 * sends the signal then, so every run hits the same step:
 *
 * - SIGINT at every step, SIGKILL at every step, SIGTERM at a representative three (service1's
 *   and service2's start, the rollback's retire): the signal handler shares one path, SIGTERM only
 *   changes the exit code (143 instead of 130).
 * - After SIGINT/SIGTERM: exit 130/143, the stack serves, one version per service (the step was
 *   undone or finished), no canary left, no journal, an `interrupted` history row naming what
 *   runs, which `status` reports.
 * - After SIGKILL: `status` reports the half-done step (from the journal) and exactly the
 *   containers that run, per version; the next command (the next case's, or a final `up`)
 *   repairs it first and records an `interrupted` row.
 *
 * Failed requests of the steady client are counted per case (until the stack serves again, or
 * for SIGKILL until the next command repaired it) and go to the bench report's reliability table.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { processesWithArgs } from "../../lib/deploy/processes";
import { answers, containerIds, steadyClient } from "../deploy/helpers";
import { ROOMY_UPSTREAM_FLAGS } from "../integration/processes";
import { recordReliability } from "../reliability/record";
import { deriveVersion, removeRunImages } from "../support/deploy-images";
import { inspect, requireDocker } from "../support/docker";
import { testImages } from "../support/images";
import { canaries, DeployProcess, REPOSITORY, type Stack, stack } from "./support";

const hasDocker = await requireDocker("deploy fault-injection suite");

type Signal = "SIGINT" | "SIGTERM" | "SIGKILL";
type Group = "service1" | "service2" | "rollback";
const PHASES: Record<Group, string[]> = {
  service1: ["canary", "start", "probe", "health", "retire", "verify"],
  // Behind the edge, service2 rolls like service1: new beside old, then the old retired.
  service2: ["canary", "start", "probe", "health", "retire", "verify"],
  rollback: ["canary", "start", "probe", "health", "retire", "verify"],
};
const SIGTERM_AT: Record<Group, string> = { service1: "start", service2: "start", rollback: "retire" };
const VERSIONS = ["1.0.0", "1.1.0", "1.2.0"];

interface Case {
  group: Group;
  phase: string;
  signal: Signal;
}

// The rollback group follows service1's, whose deploys left the two good states it moves between.
const cases: Case[] = (["service1", "rollback", "service2"] as const).flatMap((group) =>
  PHASES[group].flatMap((phase) => [
    { group, phase, signal: "SIGINT" as const },
    { group, phase, signal: "SIGKILL" as const },
    ...(SIGTERM_AT[group] === phase ? [{ group, phase, signal: "SIGTERM" as const }] : []),
  ]),
);

/** Waits until no Compose command of the project runs (a killed deploy's children finish on their own). */
async function composeSettled(project: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (processesWithArgs(["--project-name", project]).length > 0) {
    if (Date.now() > deadline) throw new Error(`Compose commands of ${project} still run after 120 s`);
    await Bun.sleep(200);
  }
}

/** Running containers of a service, counted by image reference. */
async function runningByImage(project: string, service: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const id of await containerIds(project, service)) {
    const image = (await inspect(id)).Config.Image as string;
    counts[image] = (counts[image] ?? 0) + 1;
  }
  return counts;
}

describe.skipIf(!hasDocker)("stopping the CLI at every step, under steady load", () => {
  let s: Stack;
  let client: ReturnType<typeof steadyClient>;
  const failed: Record<string, string> = {};
  let pendingKill: string | null = null;
  const versions = { service1: "1.0.0", service2: "1.0.0" };
  const started = performance.now();

  beforeAll(async () => {
    s = stack("interrupts");
    const base = await testImages();
    for (const service of ["service1", "service2"] as const) {
      for (const version of VERSIONS) {
        await deriveVersion(base[service].id, `${REPOSITORY}/${service}:${version}`, version);
      }
    }
    // Roomy budgets for service2's calls to service1 (later deploys keep them): the steady client
    // counts what a signal costs, not service1's latency on 2 cores shared with the other lanes.
    const r = await s.up([
      "--version_service1=1.0.0",
      "--version_service2=1.0.0",
      "--additional_param_1=1",
      ...ROOMY_UPSTREAM_FLAGS,
    ]);
    if (r.code !== 0) throw new Error(`first deploy failed: ${r.stderr}`);
    client = steadyClient(s.port, 1);
  }, 600_000);

  afterAll(async () => {
    await client?.stop();
    const stats = client?.stats;
    await recordReliability("deploy-interrupts", {
      cases: Object.keys(failed).length,
      "failed requests per case (signal@step: failed/sent)": Object.entries(failed)
        .map(([name, figure]) => `${name} ${figure}`)
        .join("; "),
      "requests in all": (stats?.ok ?? 0) + (stats?.failed ?? 0),
      "suite seconds": Math.round((performance.now() - started) / 1000),
    });
    await s?.destroy();
    await removeRunImages();
  }, 300_000);

  /** A deploy to a known state (repairs whatever the last case left). */
  async function settle(service1: string, service2: string): Promise<void> {
    const r = await s.up([
      `--version_service1=${service1}`,
      `--version_service2=${service2}`,
      "--additional_param_1=1",
    ]);
    if (r.code !== 0) throw new Error(`settling at ${service1}/${service2} failed (${r.code}): ${r.stderr}`);
    if (pendingKill) {
      const rows = await s.history();
      expect(rows.some((row) => row.result === "interrupted" && row.message?.includes("half done; pid"))).toBe(true);
    }
    versions.service1 = service1;
    versions.service2 = service2;
    pendingKill = null;
  }

  function argsFor(c: Case): string[] {
    if (c.group === "rollback") return ["rollback", "--service=service1"];
    const next = VERSIONS[(VERSIONS.indexOf(versions[c.group]) + 1) % VERSIONS.length] as string;
    versions[c.group] = next;
    return [
      `--version_service1=${versions.service1}`,
      `--version_service2=${versions.service2}`,
      "--additional_param_1=1",
    ];
  }

  let group: Group | null = null;
  for (const c of cases) {
    const name = `${c.signal}@${c.group === "rollback" ? "rollback." : ""}${c.group === "service2" ? "service2" : "service1"}.${c.phase}`;
    test(name, async () => {
      if (group !== c.group) {
        // service2's group starts from a known service1 (the rollback group leaves it moving).
        if (c.group === "service2") await settle("1.0.0", "1.0.0");
        group = c.group;
      }
      const before = { ...client.stats };
      const deploy = new DeployProcess(s, argsFor(c));
      const step = `${c.group === "service2" ? "service2" : "service1"}.${c.phase}`;
      const reached = await deploy.started(step);
      expect(reached).toBe(true);
      // The signal goes at once: anything awaited first lets the step end before it lands.
      deploy.kill(c.signal);
      const r = await deploy.done;
      await composeSettled(s.project);
      if (pendingKill) {
        // This command is the next one after a SIGKILL: it repaired the half-done step first.
        expect(deploy.events.some((e) => e.event === "start" && e.step === "repair")).toBe(true);
        const rows = await s.history();
        expect(rows.some((row) => row.result === "interrupted" && row.message?.includes("half done; pid"))).toBe(true);
        pendingKill = null;
      }

      if (c.signal === "SIGKILL") {
        const st = await s.status();
        expect(st.journal?.interrupted).toContain(`"${c.phase}"`);
        for (const service of ["service1", "service2"] as const) {
          const actual = await runningByImage(s.project, service);
          const reported = Object.fromEntries(st.services[service].running.map((v) => [v.image, v.replicas]));
          expect(reported).toEqual(actual);
        }
        pendingKill = name;
      } else {
        // verify is the last phase and can be over in a fraction of a second (new beside old, the
        // new ones already healthy): a signal handled after it ended finds the deploy done, which
        // ends as any deploy does (exit 0, an `ok` row). Every other phase must be interrupted.
        const finished = c.phase === "verify" && r.code === 0;
        expect(r.code).toBe(finished ? 0 : c.signal === "SIGINT" ? 130 : 143);
        if (!finished) expect(r.stderr).toContain(`interrupted by ${c.signal}`);
        expect(await answers(s.port)).toBe(true);
        const st = await s.status();
        expect(st.journal).toBeUndefined();
        const [row] = await s.history();
        expect(row?.result).toBe(finished ? "ok" : "interrupted");
        for (const service of ["service1", "service2"] as const) {
          expect(st.services[service].running).toHaveLength(1);
          expect(st.services[service].health).toBe("healthy");
          expect(st.services[service].version).toBe(row?.versions[service] ?? "");
        }
        expect(st.services.service1.replicas).toBe(1);
        expect(await canaries(s.project)).toEqual([]);
        versions.service1 = row?.versions.service1 ?? versions.service1;
        versions.service2 = row?.versions.service2 ?? versions.service2;
      }
      if (c.signal !== "SIGKILL") {
        const sent = client.stats.ok + client.stats.failed - (before.ok + before.failed);
        failed[name] =
          `${client.stats.failed - before.failed}/${sent}${r.code === 0 ? " (done before the signal)" : ""}`;
      } else {
        failed[name] =
          `${client.stats.failed - before.failed}/${client.stats.ok + client.stats.failed - (before.ok + before.failed)} (until the next command)`;
      }
    }, 600_000);
  }

  test("a second SIGINT while the step is undone stops at once, and says what is left and how to repair it", async () => {
    const from = versions.service1;
    const to = VERSIONS[(VERSIONS.indexOf(from) + 1) % VERSIONS.length] as string;
    versions.service1 = to;
    const deploy = new DeployProcess(s, [
      `--version_service1=${to}`,
      `--version_service2=${versions.service2}`,
      "--additional_param_1=1",
    ]);
    expect(await deploy.started("service1.health")).toBe(true);
    deploy.kill("SIGINT");
    expect(await deploy.started("service1.restore")).toBe(true);
    deploy.kill("SIGINT");
    const r = await deploy.done;
    await composeSettled(s.project);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("stopped by a second SIGINT");
    expect(r.stderr).toContain(`was at "health" of service1 ${from} x1 -> ${to} x1`);
    expect(r.stderr).toContain("the next `bun deploy.ts up`, `rollback` or `down` repairs it first");
    const [row] = await s.history();
    expect(row).toMatchObject({ result: "interrupted" });
    expect(row?.left).toContain("stopped by a second SIGINT");
    expect((await s.status()).journal?.interrupted).toContain('"health"');
    pendingKill = "second SIGINT";
  }, 600_000);

  test("the command after the last SIGKILL repairs it; the stack ends serving one version per service", async () => {
    await settle(versions.service1 === "1.0.0" ? "1.1.0" : "1.0.0", "1.0.0");
    const rows = await s.history();
    expect(rows.slice(0, 2).map((row) => row.result)).toEqual(["ok", "interrupted"]);
    const st = await s.status();
    expect(st.journal).toBeUndefined();
    expect(st.services.service1.running).toHaveLength(1);
    expect(st.services.service2.running).toHaveLength(1);
    expect(await answers(s.port)).toBe(true);
  }, 600_000);
});
