/**
 * Every command in README.md's and docs/deploy.md's `sh` blocks either runs here, and its output
 * has the shape the document shows, or is on the NOT_HERE list with the reason and where it is
 * exercised instead. A command added to either document fails this test until it is one or the
 * other. The `curl` examples run against both services started as real processes (the ports in
 * the examples swapped for theirs); the `--dry-run` lines run the CLI in-process.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deploy } from "../cli/support";
import { type ServiceProcess, startService, stopAll } from "../integration/processes";

const ROOT = join(import.meta.dir, "..", "..");
const DOCUMENTS = ["README.md", "docs/deploy.md"];

interface Example {
  document: string;
  command: string;
  /** The output the document shows under it (may be empty). */
  shown: string;
}

/** Commands of every `sh` block: `$ `-prefixed ones with the lines shown under them, or plain lines. */
async function examples(): Promise<Example[]> {
  const found: Example[] = [];
  for (const document of DOCUMENTS) {
    const text = await Bun.file(join(ROOT, document)).text();
    for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
      const lines = (block[1] ?? "").split("\n").filter((line) => line.trim() !== "");
      const prompted = lines.some((line) => line.startsWith("$ "));
      let current: Example | null = null;
      for (const line of lines) {
        if (current?.command.endsWith("\\")) {
          current.command = `${current.command.slice(0, -1).trimEnd()} ${line.trim()}`;
        } else if (!prompted || line.startsWith("$ ")) {
          if (line.startsWith("#")) continue;
          current = {
            document,
            command: line
              .replace(/^\$ /, "")
              .replace(/\s+#.*$/, "")
              .trim(),
            shown: "",
          };
          found.push(current);
        } else if (current) {
          current.shown += `${line}\n`;
        }
      }
    }
  }
  return found;
}

/** Commands that cannot run in this test, why, and what runs them instead. */
const NOT_HERE: Array<[RegExp, string]> = [
  [
    /^bun install && bun deploy\.ts$/,
    "a real deploy needs the Docker engine: tests/deploy/compose.test.ts, tests/faults/, the newcomer run",
  ],
  [
    /^bun deploy\.ts (--version_service1|--file=deploy\.yaml( --additional_param_1=\d+)?$)/,
    "a real deploy (Docker, and a registry at 127.0.0.1:5000): tests/deploy/compose.test.ts",
  ],
  [
    /^bun deploy\.ts (status|history|rollback|down)\b/,
    "acts on a deployed stack: tests/deploy/compose.test.ts and tests/faults/ run each",
  ],
  [
    /^bun deploy\.ts --file=deploy\.yaml --dry-run$/,
    "needs the deploy.yaml shown above it: tests/cli/deploy-file.test.ts runs the same keys",
  ],
  [
    /^bun install && bun run dev$/,
    "a long-running dev server with reload; its two processes are what the curl examples below run against",
  ],
  [/^bun run test(:full)?$/, "the suites themselves (.ci/run runs test:full)"],
  [
    /^bun deploy\.ts (build|publish|promote|integrate)\b/,
    "image builds and a registry: tests/deploy/pipeline.test.ts, tests/images/",
  ],
];

let service1: ServiceProcess;
let service2: ServiceProcess;
const state = mkdtempSync(join(tmpdir(), "timekit-doc-commands-"));
// Hooks get an explicit hang guard: starting two processes on a busy machine can take a while.
beforeAll(async () => {
  service1 = await startService("service1");
  service2 = await startService("service2", { SERVICE1_URL: service1.url });
}, 60_000);
afterAll(async () => {
  await stopAll([service1, service2]);
  rmSync(state, { recursive: true, force: true });
});

/** The shape of a JSON value: keys and types, recursively (values differ from run to run). */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === "code" ? v : shape(v)]));
  }
  return typeof value;
}

/** Text with every number made a wildcard: a date, an epoch, a time shown once. */
const textShape = (text: string) =>
  new RegExp(
    `^${text
      .trim()
      .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
      .replace(/\d+/g, "\\d+")}$`,
  );

const runnable = (e: Example) => e.command.startsWith("curl ") || /^bun deploy\.ts .*--dry-run/.test(e.command);

// Read at load time: an async describe callback would run under Bun's 5 s default, not the preload's.
const all = await examples();

describe("the documents' commands", () => {
  test("each runs here or is listed with why not; no listed reason is stale", () => {
    const unaccounted = all.filter((e) => !runnable(e) && !NOT_HERE.some(([pattern]) => pattern.test(e.command)));
    expect(unaccounted.map((e) => `${e.document}: ${e.command}`)).toEqual([]);
    for (const [pattern] of NOT_HERE) expect(all.some((e) => pattern.test(e.command))).toBe(true);
    expect(all.filter(runnable).length).toBeGreaterThan(10);
  });

  const curls = all.filter((e) => e.command.startsWith("curl "));
  test.each(curls.map((e) => [e.command, e] as const))("%s", async (_command, example) => {
    const command = example.command
      .replaceAll("localhost:8081", `127.0.0.1:${service1.port}`)
      .replaceAll("localhost:8080", `127.0.0.1:${service2.port}`);
    const result = Bun.spawnSync(["bash", "--noprofile", "--norc", "-c", command]);
    expect(result.exitCode).toBe(0);
    const actual = result.stdout.toString();
    const shown = example.shown.trim();
    if (shown.startsWith("{")) expect(shape(JSON.parse(actual))).toEqual(shape(JSON.parse(shown)));
    else expect(actual.trim()).toMatch(textShape(shown));
  });

  const dryRuns = all.filter(
    (e) => /^bun deploy\.ts .*--dry-run/.test(e.command) && !NOT_HERE.some(([p]) => p.test(e.command)),
  );
  test.each(dryRuns.map((e) => [e.command, e] as const))("%s", async (_command, example) => {
    const args = example.command.replace(/^bun deploy\.ts /, "").split(/\s+/);
    const r = await deploy([...args, "--project=timekit-test-doc"], { TIMEKIT_STATE_DIR: state });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("first deploy of project timekit-test-doc (compose): nothing of it runs yet");
    expect(r.stdout).toContain("plan for project timekit-test-doc (target compose):");
  });
});
