/** The deploy file (`up --file=deploy.yaml`): the same checks as flags, flags over the file. */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deploy as run } from "./support";

const dir = mkdtempSync(join(tmpdir(), "timekit-deploy-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function file(text: string): string {
  const path = join(dir, `deploy-${++files}.yaml`);
  writeFileSync(path, text);
  return path;
}
const deploy = (args: string[]) =>
  run(["--dry-run", "--json", `--project=timekit-test-file-${files}`, ...args], {
    TIMEKIT_STATE_DIR: join(dir, "state"),
  });

writeFileSync(join(dir, "service2.env"), "SHUTDOWN_DELAY_MS=250\n");

const VALID = `# a repeatable deploy
version_service1: v1.0.2
version-service2: 1.1.0
additional_param_1: 3
log_level_service2: warn
env_file_service2: service2.env   # relative to this file
mem_limit: 128m
cpus: 0.5
port: 18090
registry: 127.0.0.1:5999/timekit
`;

test("every key becomes its flag: versions, replicas, settings, an env file beside it, limits, port", async () => {
  const r = await deploy([`--file=${file(VALID)}`]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const { plan } = JSON.parse(r.stdout);
  expect(plan.services.service1).toMatchObject({
    version: "1.0.2",
    replicas: 3,
    limits: { memory: "128m", cpus: "0.5" },
  });
  expect(plan.services.service2).toMatchObject({
    version: "1.1.0",
    env: { LOG_LEVEL: "warn", SHUTDOWN_DELAY_MS: "250" },
  });
  expect(plan.services.service1.image).toBe("127.0.0.1:5999/timekit/service1:1.0.2");
  expect(plan.port).toBe(18090);
});

test("a flag on the command line wins over the file, in any spelling", async () => {
  const path = file(VALID);
  const r = await deploy([`--file=${path}`, "--additionalParam1=5", "--version-service1", "1.0.3"]);
  expect(r.code).toBe(0);
  const { plan } = JSON.parse(r.stdout);
  expect(plan.services.service1).toMatchObject({ version: "1.0.3", replicas: 5 });
  expect(plan.services.service2.version).toBe("1.1.0");
});

test.each([
  [
    "an unknown key, with a suggestion",
    "verison_service1: 1.0\n",
    /unknown setting "verison_service1"; did you mean version_service1\?/,
  ],
  [
    "a bad value: the flag's own check, and the file named",
    "additional_param_1: 0\n",
    /--additional_param_1="0" is not allowed/,
  ],
  ["a list where a value goes", "port: [1, 2]\n", /port takes one value \(a string or number\), got \[1,2\]/],
  ["a switch that is not true or false", "reset: yes please\n", /reset is a switch; use true or false/],
  ["a key that belongs on the command line", "dry_run: true\n", /dry_run cannot be set in a deploy file/],
  ["not a mapping", "- version_service1: 1.0\n", /must be a mapping of up's flags to values/],
  ["not YAML", "version_service1: [\n", /not valid YAML/],
])("%s: exit 2, nothing run", async (_name, text, message) => {
  const path = file(text);
  const r = await deploy([`--file=${path}`]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toContain(path);
  expect(JSON.parse(r.stdout).error.code).toBe("usage");
});

test("a file that does not exist", async () => {
  const r = await deploy([`--file=${join(dir, "missing.yaml")}`]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('missing.yaml": no such file');
});

test("a switch in the file is given either way: false puts the edge back on a stack without it", async () => {
  const path = file("publish_service2_directly: false\n");
  const project = `timekit-test-file-${files}`;
  const direct = {
    time: "2026-01-01T00:00:00.000Z",
    action: "up",
    result: "ok",
    versions: { service1: "1.0.2", service2: "1.1.0" },
    params: { service1: { replicas: 1, env: {} }, service2: { replicas: 1, env: {} } },
    images: { service1: "timekit/service1:1.0.2", service2: "timekit/service2:1.1.0" },
    digests: { service1: `sha256:${"1".repeat(64)}`, service2: `sha256:${"2".repeat(64)}` },
    port: 18080,
    changed: ["service1", "service2"],
    durationMs: 1000,
  };
  mkdirSync(join(dir, "state", project), { recursive: true });
  writeFileSync(join(dir, "state", project, "history.jsonl"), `${JSON.stringify(direct)}\n`);
  const r = await deploy([`--file=${path}`]);
  expect(r.stderr).toBe("");
  expect(JSON.parse(r.stdout).diff.services.service2.changes).toContainEqual({ field: "edge", from: "off", to: "on" });
});

test("--no-<switch> on the command line wins over the file", async () => {
  const r = await deploy([`--file=${file("publish_service2_directly: true\n")}`, "--no-publish_service2_directly"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).plan.services.service2.edge).toEqual({ image: "edge:pending", digest: null });
});
