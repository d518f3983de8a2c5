/**
 * The deploy CLI in-process (`main(argv, io)`), for everything that needs no Docker engine: flag
 * validation, exit codes, messages, --dry-run, history, rollback preconditions. The Docker paths
 * live in tests/deploy/compose.test.ts; tests/cli/smoke.test.ts runs `bun deploy.ts` as a process.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { colourful, paint } from "../../lib/colour";
import { Progress } from "../../lib/deploy/progress";
import { deploy as run } from "./support";

const stateDir = mkdtempSync(join(tmpdir(), "timekit-deploy-cli-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

const deploy = (args: string[], env: Record<string, string> = {}) => run(args, { TIMEKIT_STATE_DIR: stateDir, ...env });

describe("usage and validation errors exit 2 before anything runs", () => {
  const envFile = join(stateDir, "reserved.env");
  writeFileSync(envFile, "# comment\nPORT=9000\n");
  const cases: Array<[string, string[], RegExp]> = [
    [
      "unknown flag with a suggestion",
      ["--verison_service1=1.0"],
      /unknown flag --verison_service1; did you mean --version_service1\?/,
    ],
    ["unknown flag on a subcommand", ["status", "--bogus"], /unknown flag --bogus/],
    ["unknown command with a suggestion", ["stauts"], /unknown command "stauts"; did you mean "status"\?/],
    [
      "version that is not a tag",
      ["--version_service1=latest", "--dry-run"],
      /--version_service1="latest" is not a version; use dev, known-good .*, or a published tag/,
    ],
    ["four-part version", ["--version_service2=1.2.3.4", "--dry-run"], /--version_service2="1.2.3.4" is not a version/],
    [
      "zero replicas",
      ["--additional_param_1=0", "--dry-run"],
      /--additional_param_1="0" is not allowed; it is the service1 replica count, a whole number from 1 to 20/,
    ],
    ["replicas not a number", ["--replicas_service1=two", "--dry-run"], /replica count/],
    [
      "port out of range",
      ["--port=70000", "--dry-run"],
      /--port="70000" is not allowed; use a TCP port from 1 to 65535/,
    ],
    [
      "log level not in the list",
      ["--log_level_service1=loud", "--dry-run"],
      /--log_level_service1="loud" is not allowed; use one of fatal, error/,
    ],
    [
      "duration without meaning",
      ["--upstream_timeout=soon", "--dry-run"],
      /--upstream_timeout="soon" is not allowed; use a duration/,
    ],
    ["health timeout too short", ["--health_timeout=10ms", "--dry-run"], /--health_timeout="10ms" is not allowed/],
    [
      "registry with a scheme",
      ["--registry=http://x", "--version_service1=1.0", "--dry-run"],
      /--registry="http:\/\/x" is not allowed/,
    ],
    [
      "archive dir missing",
      ["--from_archive=/nonexistent/dir", "--dry-run"],
      /--from_archive="\/nonexistent\/dir": no such directory/,
    ],
    ["env file missing", ["--env_file_service1=/nonexistent.env", "--dry-run"], /no such file/],
    [
      "env file sets a wired variable",
      [`--env_file_service2=${envFile}`, "--dry-run"],
      /reserved\.env:2: PORT is wired by the deploy itself; remove it/,
    ],
    [
      "local repository that is not a repository path",
      ["--local_repository=Timekit/../x", "--dry-run"],
      /--local_repository="Timekit\/\.\.\/x" is not allowed; use a Docker repository path/,
    ],
    ["memory limit without a unit", ["--mem_limit=256", "--dry-run"], /--mem_limit="256" is not allowed/],
    ["memory limit too small", ["--mem_limit=8m", "--dry-run"], /--mem_limit="8m" is not allowed; .*from 32m to 64g/],
    ["cpus beyond this machine", ["--cpus=999", "--dry-run"], /--cpus="999" is not allowed; use a decimal from 0\.1/],
    [
      "progress format unknown",
      ["--progress=xml", "--dry-run"],
      /--progress="xml" is not allowed; use one of text, json/,
    ],
    [
      "container limits on a Kubernetes target",
      ["--target=k8s", "--mem_limit=128m", "--dry-run"],
      /--mem_limit is a Compose container limit/,
    ],
    ["bad project name", ["--project=Bad Name", "--dry-run"], /--project="Bad Name" is not allowed/],
    ["flag given twice", ["--port=1", "--port=2", "--dry-run"], /--port is given more than once/],
    [
      "rollback of an unknown service",
      ["rollback", "--service=service3"],
      /--service="service3" is not allowed; use service1 or service2/,
    ],
    ["rollback to a non-version", ["rollback", "--to=latest"], /--to="latest" is not a version/],
    ["history limit not a number", ["history", "--limit=all"], /--limit="all" is not allowed/],
  ];
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const r = await deploy(args);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toContain("    at "); // no stack trace
    });
  }

  test("every problem is reported at once", async () => {
    const r = await deploy(["--version_service1=x", "--additional_param_1=99", "--port=-1", "--dry-run"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("3 problems");
  });
});

describe("--dry-run prints the plan and changes nothing", () => {
  const spellings: Array<[string, string[], { v1: string; v2: string; replicas: number }]> = [
    ["defaults: both dev, one replica", [], { v1: "dev", v2: "dev", replicas: 1 }],
    [
      "the contract's example",
      ["--version_service1=v1.0", "--version_service2=v1.0", "--additional_param_1=5"],
      { v1: "1.0", v2: "1.0", replicas: 5 },
    ],
    [
      "kebab and camel spellings",
      ["--version-service1=1.2.3", "--versionService2=v1.2.3", "--replicas-service1=2"],
      { v1: "1.2.3", v2: "1.2.3", replicas: 2 },
    ],
    [
      "pre-release and value after a space",
      ["--version_service1", "1.2.3-rc.1", "--replicas_service1", "3"],
      { v1: "1.2.3-rc.1", v2: "dev", replicas: 3 },
    ],
    ["explicit up subcommand", ["up", "--version_service2=2.0"], { v1: "dev", v2: "2.0", replicas: 1 }],
  ];
  for (const [name, args, want] of spellings) {
    test(name, async () => {
      const r = await deploy([...args, "--dry-run", "--json", "--registry=127.0.0.1:5999/timekit"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const { dryRun, plan } = JSON.parse(r.stdout);
      expect(dryRun).toBe(true);
      expect(plan.target).toBe("compose");
      expect(plan.services.service1.version).toBe(want.v1);
      expect(plan.services.service2.version).toBe(want.v2);
      expect(plan.services.service1.replicas).toBe(want.replicas);
      expect(plan.services.service2.replicas).toBe(1);
      if (want.v1 !== "dev") expect(plan.services.service1.image).toBe(`127.0.0.1:5999/timekit/service1:${want.v1}`);
      else expect(plan.services.service1.source.kind).toBe("build");
    });
  }

  test("settings flags and env files become the services' environment", async () => {
    const envFile = join(stateDir, "extra.env");
    writeFileSync(envFile, "SHUTDOWN_DELAY_MS=250\nLOG_LEVEL=warn\n");
    const r = await deploy([
      "--dry-run",
      "--json",
      `--env_file_service2=${envFile}`,
      "--log_level_service2=debug",
      "--upstream_timeout=1.5s",
      "--drain_timeout_service1=2s",
    ]);
    expect(r.code).toBe(0);
    const { plan } = JSON.parse(r.stdout);
    expect(plan.services.service2.env).toEqual({
      LOG_LEVEL: "debug",
      SERVICE1_TIMEOUT_MS: "1500",
      SHUTDOWN_DELAY_MS: "250",
    });
    expect(plan.services.service1.env).toEqual({ DRAIN_TIMEOUT_MS: "2000" });
  });

  test("--local_repository names where dev builds and local images are tagged; limits are in the plan", async () => {
    const r = await deploy([
      "--dry-run",
      "--json",
      "--local_repository=timekit-test/ci",
      "--version_service2=1.2.3",
      "--mem_limit=128m",
      "--cpus=0.5",
    ]);
    expect(r.code).toBe(0);
    const { plan } = JSON.parse(r.stdout);
    expect(plan.services.service1.image).toBe("timekit-test/ci/service1:dev");
    expect(plan.services.service2.image).toBe("timekit-test/ci/service2:1.2.3");
    expect(plan.services.service1.limits).toEqual({ memory: "128m", cpus: "0.5" });
  });

  test("human-readable plan", async () => {
    const r = await deploy(["--dry-run", "--version_service1=1.0", "--project=timekit-test-dry"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("plan for project timekit-test-dry");
    expect(r.stdout).toContain("service1: version 1.0, image timekit/service1:1.0 (use the local image)");
  });
});

describe("help", () => {
  test("--help lists the commands and up's flags", async () => {
    const r = await deploy(["--help"]);
    expect(r.code).toBe(0);
    for (const word of [
      "up",
      "down",
      "status",
      "history",
      "rollback",
      "version",
      "--additional_param_1",
      "--dry_run",
    ]) {
      expect(r.stdout).toContain(word);
    }
  });
  test("every help fits 100 columns, with short value hints and the choices in the description", async () => {
    for (const command of [[], ["up"], ["rollback"], ["build"], ["publish"], ["promote"], ["integrate"], ["version"]]) {
      const r = await deploy([...command, "--help"]);
      expect(r.code).toBe(0);
      const long = r.stdout.split("\n").filter((line) => line.length > 100);
      expect(long).toEqual([]);
    }
    const r = await deploy(["--help"]);
    expect(r.stdout).toContain("--log_level_service1=<level>");
    expect(r.stdout).toMatch(/One of: fatal, error, warn, info, debug, trace,\s+silent/);
    expect(r.stdout).toContain("--target=<target>");
    expect(r.stdout).not.toContain("|");
  });
  test("a subcommand's --help", async () => {
    const r = await deploy(["rollback", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--service");
    expect(r.stdout).toContain("--to");
  });
});

describe("history and rollback read the state directory", () => {
  const project = "timekit-test-history";
  const entry = (time: string, result: string, v1: string) => ({
    time,
    action: "up",
    result,
    versions: { service1: v1, service2: "1.0" },
    params: { service1: { replicas: 2, env: {} }, service2: { replicas: 1, env: { LOG_LEVEL: "warn" } } },
    images: { service1: `timekit/service1:${v1}-abc`, service2: "timekit/service2:1.0-def" },
    digests: { service1: "sha256:1", service2: "sha256:2" },
    port: 8080,
    changed: ["service1"],
    durationMs: 1200,
  });

  test("empty history", async () => {
    const r = await deploy(["history", "--json", `--project=${project}-empty`]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  test("newest first, with the contract's fields; a torn last line is skipped", async () => {
    const dir = join(stateDir, project);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "history.jsonl"),
      `${JSON.stringify(entry("2026-01-01T00:00:00.000Z", "ok", "1.0"))}\n${JSON.stringify(entry("2026-01-02T00:00:00.000Z", "rolled-back", "1.1"))}\n{"time":"2026-01-0`,
    );
    const r = await deploy(["history", "--json", `--project=${project}`]);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list.map((e: { time: string }) => e.time)).toEqual(["2026-01-02T00:00:00.000Z", "2026-01-01T00:00:00.000Z"]);
    for (const key of ["time", "action", "versions", "params", "result"]) expect(list[0]).toHaveProperty(key);
    const table = await deploy(["history", `--project=${project}`, "--limit=1"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^TIME\s+ACTION\s+RESULT/);
    expect(table.stdout).toContain("rolled-back");
    expect(table.stdout).not.toContain("2026-01-01");
  });

  test("rollback --to=known-good without a registry is a usage error", async () => {
    const r = await deploy(["rollback", `--project=${project}`, "--to=known-good"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--to=known-good names the image last promoted in a registry; give --registry=R");
    expect(r.stderr).toContain("fix: e.g. bun deploy.ts rollback --service=service2 --to=known-good --registry=");
  });

  test("rollback with nothing in history fails with exit 1", async () => {
    const r = await deploy(["rollback", `--project=${project}-none`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nothing to roll back");
  });
});

describe("--json: every run answers JSON on stdout, failures too", () => {
  const failures: Array<[string, string[], string, number]> = [
    ["a bad value with --dry-run", ["--dry-run", "--json", "--version_service1=x"], "usage", 2],
    ["an unknown flag", ["status", "--json", "--bogus"], "usage", 2],
    ["an unknown command", ["stauts", "--json"], "usage", 2],
    ["nothing to roll back", ["rollback", "--json", "--project=timekit-test-json-none"], "failed", 1],
  ];
  test.each(failures)("%s: {error:{code,message,fix,exitCode}}", async (_name, args, code, exitCode) => {
    const r = await deploy(args);
    expect(r.code).toBe(exitCode);
    const { error } = JSON.parse(r.stdout);
    expect(error).toMatchObject({ code, exitCode });
    expect(typeof error.message).toBe("string");
    expect(error.message.length).toBeGreaterThan(0);
    expect(error).toHaveProperty("fix");
    expect(r.stderr).toContain(error.message.split("\n")[0]);
  });

  test("without --json, stdout stays empty on failure", async () => {
    const r = await deploy(["--dry-run", "--version_service1=x"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
  });
});

describe("--version, help, colour", () => {
  test("--version names the commit, both services' versions and Bun's", async () => {
    const r = await deploy(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^timekit deploy\\.ts [0-9a-f]{12}(-dirty)? \\(service1 \\d+\\.\\d+\\.\\d+, service2 \\d+\\.\\d+\\.\\d+; bun ${Bun.version.replaceAll(".", "\\.")}\\)\\n$`,
      ),
    );
  });

  test("build's own --version is still build's", async () => {
    const r = await deploy(["build", "--service=service1", "--version=x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--version="x" is not a release version');
  });

  test("`help` and `help <command>` are --help", async () => {
    expect((await deploy(["help"])).stdout).toBe((await deploy(["--help"])).stdout);
    const rollbackHelp = await deploy(["help", "rollback"]);
    expect(rollbackHelp.code).toBe(0);
    expect(rollbackHelp.stdout).toBe((await deploy(["rollback", "--help"])).stdout);
  });

  test.each([
    [{ tty: true, env: {} }, true],
    [{ tty: false, env: {} }, false],
    [{ tty: true, env: { NO_COLOR: "1" } }, false],
    [{ tty: true, env: { NO_COLOR: "" } }, true],
    [{ tty: true, env: { TERM: "dumb" } }, false],
    [{ tty: false, env: { FORCE_COLOR: "1" } }, true],
    [{ tty: true, env: { NO_COLOR: "1", FORCE_COLOR: "0" } }, false],
  ] as const)("colour for %j: %p", (io, want) => {
    expect(colourful(io)).toBe(want);
    expect(paint(io, "red", "x") === "x").toBe(!want);
  });

  test("a note while a spinner runs clears the spinner's line first, so it is never overwritten", async () => {
    const chunks: string[] = [];
    const io = { stdout: () => {}, stderr: (t: string) => void chunks.push(t), env: {}, tty: true };
    const progress = new Progress(io, false);
    await progress.step("slow step", async () => {
      await Bun.sleep(250);
      progress.note("compose: docker-compose 1.29.2");
    });
    const err = chunks.join("");
    const noteAt = err.indexOf("  compose: docker-compose 1.29.2\n");
    expect(noteAt).toBeGreaterThan(0);
    expect(err.slice(noteAt - "\r\x1b[2K".length, noteAt)).toBe("\r\x1b[2K");
    expect(err).toMatch(/✓.* slow step \(\d+\.\ds\)\n$/);
  });
});
