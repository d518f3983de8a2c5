/** Facts about the machine a run happened on. */
import { cpus, hostname, release } from "node:os";
import type { MachineInfo } from "./results";

function version(cmd: string[]): string | null {
  try {
    const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "ignore" });
    return r.exitCode === 0 ? r.stdout.toString().trim() || null : null;
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  return {
    cores: cpus().length,
    model: cpus()[0]?.model.trim() ?? "unknown",
    kernel: release(),
    bun: Bun.version,
    node: version(["node", "--version"])?.replace(/^v/, "") ?? null,
    docker: version(["docker", "version", "--format", "{{.Server.Version}}"]),
    date: new Date().toISOString(),
    hostname: hostname(),
  };
}
