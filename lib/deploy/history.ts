/**
 * A target's deploy history on disk: append-only JSON Lines, oldest first, in its state directory
 * (`<state dir>/<project>/history.jsonl` for Compose; a directory per context and namespace for
 * the Kubernetes targets). `history --json` prints these entries newest first (the contract).
 */
import { existsSync, mkdirSync } from "node:fs";
import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { perService, type ServiceName } from "../services";
import type { ServiceState } from "./plan";

export type Action = "up" | "rollback" | "down";
/** ok: everything passed; rolled-back: a service failed its gate and was restored (exit 3). */
export type Result = "ok" | "rolled-back" | "restore-failed" | "failed";

export interface HistoryEntry {
  time: string;
  action: Action;
  result: Result;
  /** What each service runs after this action (what `rollback` and auto-restore go back to). */
  versions: Record<ServiceName, string>;
  params: Record<ServiceName, { replicas: number; env: Record<string, string> }>;
  images: Record<ServiceName, string>;
  digests: Record<ServiceName, string | null>;
  /** service2's published port on 127.0.0.1. */
  port: number;
  /** Services this action changed. */
  changed: ServiceName[];
  durationMs: number;
  message?: string;
  /** The versions the action was asked for (an `up` that failed records what ran instead). */
  requested?: Record<ServiceName, string>;
  /** Kubernetes targets: where the action ran. */
  target?: string;
  context?: string | null;
  namespace?: string;
}

/** Deploys, restores and rollbacks that passed their gate: what can be gone back to. */
export function isGood(entry: HistoryEntry): boolean {
  return entry.action !== "down" && (entry.result === "ok" || entry.result === "rolled-back");
}

export function entryFromState(
  action: Action,
  result: Result,
  state: Record<ServiceName, ServiceState>,
  changed: ServiceName[],
  port: number,
  startedAt: number,
  message?: string,
): HistoryEntry {
  const pick = <T>(f: (s: ServiceState) => T) => perService((service) => f(state[service]));
  return {
    time: new Date().toISOString(),
    action,
    result,
    versions: pick((s) => s.version),
    params: pick((s) => ({ replicas: s.replicas, env: s.env })),
    images: pick((s) => s.image),
    digests: pick((s) => s.digest),
    port,
    changed,
    durationMs: Math.round(performance.now() - startedAt),
    ...(message ? { message } : {}),
  };
}

export function stateFromEntry(entry: HistoryEntry, service: ServiceName): ServiceState {
  return {
    version: entry.versions[service],
    image: entry.images[service],
    digest: entry.digests[service],
    replicas: entry.params[service].replicas,
    env: entry.params[service].env,
  };
}

export class History {
  readonly file: string;
  constructor(readonly dir: string) {
    this.file = join(dir, "history.jsonl");
  }

  async append(entry: HistoryEntry): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    await appendFile(this.file, `${JSON.stringify(entry)}\n`);
  }

  /** Newest first. A torn last line (a crash mid-write) is skipped, not fatal. */
  async read(): Promise<HistoryEntry[]> {
    if (!existsSync(this.file)) return [];
    const lines = (await readFile(this.file, "utf8")).split("\n").filter((l) => l.trim() !== "");
    const entries: HistoryEntry[] = [];
    for (const line of lines) {
      try {
        entries.push(JSON.parse(line) as HistoryEntry);
      } catch {
        // ignore a partial line; history stays readable
      }
    }
    return entries.reverse();
  }

  /** Good entries (see isGood), newest first. */
  async good(): Promise<HistoryEntry[]> {
    return (await this.read()).filter(isGood);
  }

  /** What each service last ran after passing its gate, and service2's port then. */
  async lastGood(): Promise<LastGood> {
    const [entry] = await this.good();
    return {
      entry: entry ?? null,
      states: perService((service) => (entry ? stateFromEntry(entry, service) : null)),
      port: entry?.port ?? null,
    };
  }
}

export interface LastGood {
  entry: HistoryEntry | null;
  states: Record<ServiceName, ServiceState | null>;
  port: number | null;
}
