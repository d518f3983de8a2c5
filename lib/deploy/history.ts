/**
 * A target's deploy history on disk: append-only JSON Lines, oldest first, in its state directory
 * (`<state dir>/<project>/history.jsonl` for Compose; a directory per context and namespace for
 * the Kubernetes targets). `history --json` prints these entries newest first (the contract).
 *
 * Every line is checked against the entry's schema when read: a line of the wrong shape (a torn
 * write, `null`, `{}`, an edit by hand) is skipped, with one warning per file naming the lines.
 */
import { type Static, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { perService, type ServiceName } from "../services";
import type { ServiceState } from "./plan";
import { StateDir } from "./state-dir";

export const ACTIONS = ["up", "rollback", "down"] as const;
export type Action = (typeof ACTIONS)[number];
/**
 * ok: everything passed; rolled-back: a service failed its gate and was restored (exit 3);
 * restore-failed: that restore failed too (exit 4); failed: nothing changed (exit 1);
 * interrupted: SIGINT/SIGTERM (or a SIGKILL repaired later) stopped the action, and what it had
 * started was undone or finished (`left` says when it could not be).
 */
export const RESULTS = ["ok", "rolled-back", "restore-failed", "failed", "interrupted"] as const;
export type Result = (typeof RESULTS)[number];

const Env = Type.Record(Type.String(), Type.String());
const PerService = <T extends ReturnType<typeof Type.String>>(value: T) =>
  Type.Object({ service1: value, service2: value });

const Params = Type.Object({
  replicas: Type.Integer({ minimum: 0 }),
  env: Env,
  limits: Type.Optional(Type.Object({ memory: Type.String(), cpus: Type.String() })),
  /** service2 on Compose: the edge in front of it (absent: service2 published its port itself). */
  edge: Type.Optional(Type.Object({ image: Type.String(), digest: Type.Union([Type.String(), Type.Null()]) })),
});

const EntrySchema = Type.Object({
  time: Type.String(),
  action: Type.Union(ACTIONS.map((a) => Type.Literal(a))),
  result: Type.Union(RESULTS.map((r) => Type.Literal(r))),
  /** What each service runs after this action (what `rollback` and auto-restore go back to). */
  versions: PerService(Type.String()),
  params: Type.Object({ service1: Params, service2: Params }),
  images: PerService(Type.String()),
  digests: Type.Object({
    service1: Type.Union([Type.String(), Type.Null()]),
    service2: Type.Union([Type.String(), Type.Null()]),
  }),
  /** service2's published port on 127.0.0.1. */
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  /** Services this action changed. */
  changed: Type.Array(Type.Union([Type.Literal("service1"), Type.Literal("service2")])),
  durationMs: Type.Number(),
  message: Type.Optional(Type.String()),
  /** The versions the action was asked for (an `up` that failed records what ran instead). */
  requested: Type.Optional(PerService(Type.String())),
  /** Every setting each service runs with, defaults included (params.env holds only what was asked). */
  settings: Type.Optional(Type.Object({ service1: Env, service2: Env })),
  /** interrupted: what was left half-done and how to repair it (then this entry is not a good state). */
  left: Type.Optional(Type.String()),
  /** The deploy file (--file) the action's flags came from, as an absolute path. */
  file: Type.Optional(Type.String()),
  /** Kubernetes targets: where the action ran. */
  target: Type.Optional(Type.String()),
  context: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  namespace: Type.Optional(Type.String()),
});

export type HistoryEntry = Static<typeof EntrySchema>;
const isEntry = TypeCompiler.Compile(EntrySchema);

/** Deploys, restores, rollbacks and interrupts that left a known good state: what can be gone back to. */
export function isGood(entry: HistoryEntry): boolean {
  if (entry.action === "down") return false;
  return entry.result === "ok" || entry.result === "rolled-back" || (entry.result === "interrupted" && !entry.left);
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
    params: pick((s) => ({
      replicas: s.replicas,
      env: s.env,
      ...(s.limits ? { limits: s.limits } : {}),
      ...(s.edge ? { edge: s.edge } : {}),
    })),
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
    ...(entry.params[service].limits ? { limits: entry.params[service].limits } : {}),
    ...(entry.params[service].edge ? { edge: entry.params[service].edge } : {}),
  };
}

/** Files already warned about in this process: one warning per file, however often it is read. */
const warned = new Set<string>();

export class History {
  readonly file: string;
  private readonly state: StateDir;

  constructor(
    dir: string | StateDir,
    /** Hears the one warning about skipped lines; default stderr. */
    private readonly warn: (line: string) => void = (line) => void process.stderr.write(`! ${line}\n`),
  ) {
    this.state = typeof dir === "string" ? new StateDir(dir) : dir;
    this.file = this.state.file("history.jsonl");
  }

  get dir(): string {
    return this.state.path;
  }

  /**
   * Appends one entry, fsync'd; throws StateWriteError (e.g. ENOSPC) when it cannot. A note of
   * several lines (a build log, a container's logs) goes whole to a file of its own in the state
   * directory; the entry keeps its first line and names that file, so `history` stays one line
   * per row.
   */
  async append(entry: HistoryEntry): Promise<void> {
    this.state.append("history.jsonl", JSON.stringify(this.oneLine(entry)));
  }

  private oneLine(entry: HistoryEntry): HistoryEntry {
    const long = (text: string | undefined) => text?.includes("\n") === true;
    if (!long(entry.message) && !long(entry.left)) return entry;
    const name = `log-${entry.time.replace(/[^0-9TZ]/g, "")}-${entry.action}.txt`;
    const sections = [
      entry.message === undefined ? "" : `message:\n${entry.message}\n`,
      entry.left === undefined ? "" : `left:\n${entry.left}\n`,
    ];
    this.state.write(name, sections.filter(Boolean).join("\n"));
    const shortened = (text: string | undefined) =>
      text === undefined
        ? undefined
        : `${(text.split("\n")[0] ?? "").replace(/[\s:]+$/, "")} (full text: ${this.state.file(name)})`;
    const message = shortened(entry.message);
    const left = shortened(entry.left);
    return { ...entry, ...(message ? { message } : {}), ...(left ? { left } : {}) };
  }

  /** Newest first; lines of the wrong shape are skipped (see the module comment). */
  async read(): Promise<HistoryEntry[]> {
    const text = this.state.read("history.jsonl");
    if (text === null) return [];
    const entries: HistoryEntry[] = [];
    const skipped: number[] = [];
    text.split("\n").forEach((line, index) => {
      if (line.trim() === "") return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (isEntry.Check(parsed)) entries.push(parsed);
      else skipped.push(index + 1);
    });
    if (skipped.length > 0 && !warned.has(this.file)) {
      warned.add(this.file);
      const shown = skipped.slice(0, 10).join(", ") + (skipped.length > 10 ? `, ... (${skipped.length} in all)` : "");
      this.warn(
        `skipped ${skipped.length} line(s) of ${this.file} that are not history entries (line ${shown}); the rest of the history is used`,
      );
    }
    return entries.reverse();
  }

  /** Good entries (see isGood), newest first. */
  async good(): Promise<HistoryEntry[]> {
    return (await this.read()).filter(isGood);
  }

  /** What each service last ran in a good state, and service2's port then. */
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
