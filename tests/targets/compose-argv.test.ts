/** The Compose command lines the Compose target runs, table-tested (tests/deploy/compose.test.ts runs them for real). */
import { expect, test } from "bun:test";
import {
  type ComposeProject,
  composeArgv,
  composeEnvFile,
  composeEnvironment,
  composeLiteral,
} from "../../lib/targets/compose-argv";

const v2: ComposeProject = {
  command: ["docker", "compose"],
  project: "tk",
  directory: "/repo",
  files: ["/repo/compose.yaml", "/state/tk/compose.override.yaml"],
  envFile: "/state/tk/compose.env",
};
const v1: ComposeProject = { ...v2, command: ["docker-compose"] };
const base =
  "--project-name tk --project-directory /repo --env-file /state/tk/compose.env -f /repo/compose.yaml -f /state/tk/compose.override.yaml";

test.each([
  ["version, v2", composeArgv.version(["docker", "compose"]), "docker compose version --short"],
  ["version, v1.29", composeArgv.version(["docker-compose"]), "docker-compose version --short"],
  [
    "up one service at a count, leaving the other alone",
    composeArgv.up(v2, "service1", 3),
    `docker compose ${base} up -d --no-deps --no-build --scale service1=3 service1`,
  ],
  [
    "up with Compose v1.29",
    composeArgv.up(v1, "service2", 1),
    `docker-compose ${base} up -d --no-deps --no-build --scale service2=1 service2`,
  ],
  [
    "surge: new containers beside the running ones",
    composeArgv.surge(v1, "service1", 4),
    `docker-compose ${base} up -d --no-deps --no-build --no-recreate --scale service1=4 service1`,
  ],
  [
    "canary: a one-off container, no alias, no ports, labelled",
    composeArgv.canary(v1, "service2", "tk_service2_canary_x1"),
    `docker-compose ${base} run -d -T --no-deps --name tk_service2_canary_x1 --label io.timekit.deploy.canary=service2 service2`,
  ],
  ["down", composeArgv.down(v2, false), `docker compose ${base} down --remove-orphans`],
  ["down with volumes", composeArgv.down(v1, true), `docker-compose ${base} down --remove-orphans --volumes`],
] as const)("%s", (_name, argv, expected) => {
  expect(argv.join(" ")).toBe(expected);
});

test("a service's own containers are found by Compose's labels, one-off containers (canaries) left out", () => {
  expect(composeArgv.labels("tk", "service2")).toEqual({
    "com.docker.compose.project": "tk",
    "com.docker.compose.service": "service2",
    "com.docker.compose.oneoff": "False",
  });
  expect(composeArgv.canaryLabels("tk", "service1")).toEqual({
    "com.docker.compose.project": "tk",
    "com.docker.compose.oneoff": "True",
    "io.timekit.deploy.canary": "service1",
  });
});

test("the environment file holds the one interpolation variable the deploy sets: service2's published port", () => {
  const lines = composeEnvFile(18080)
    .split("\n")
    .filter((l) => l && !l.startsWith("#"));
  expect(lines).toEqual(["SERVICE2_PORT=18080"]);
});

test("Compose runs with the Docker client's variables only; the shell's settings never reach it", () => {
  const shell = {
    PATH: "/usr/bin",
    HOME: "/root",
    DOCKER_HOST: "unix:///run/docker.sock",
    DOCKER_CONFIG: "/cfg",
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: "/certs",
    TIMEKIT_BIND_ADDRESS: "0.0.0.0",
    TIMEKIT_MEM_LIMIT: "48m",
    TIMEKIT_RESTART: "no",
    COMPOSE_FILE: "/elsewhere.yaml",
    GITHUB_TOKEN: "secret",
    SERVICE1_LOG_LEVEL: "trace",
    DOCKER_CONTEXT: "",
  };
  expect(composeEnvironment(shell)).toEqual({
    PATH: "/usr/bin",
    HOME: "/root",
    DOCKER_HOST: "unix:///run/docker.sock",
    DOCKER_CONFIG: "/cfg",
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: "/certs",
  });
});

test("values reach Compose literally: every $ doubled", () => {
  expect(composeLiteral("a$b")).toBe("a$$b");
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's syntax, not a template
  expect(composeLiteral("${GITHUB_TOKEN:-none}")).toBe("$${GITHUB_TOKEN:-none}");
  expect(composeLiteral("$(id) $$")).toBe("$$(id) $$$$");
  expect(composeLiteral("plain")).toBe("plain");
});

test("up and down converge (safe to run again); a canary's run and config do not", () => {
  for (const p of [v1, v2]) {
    expect(composeArgv.converges(p, composeArgv.up(p, "edge", 1))).toBe(true);
    expect(composeArgv.converges(p, composeArgv.surge(p, "service1", 4))).toBe(true);
    expect(composeArgv.converges(p, composeArgv.down(p, false))).toBe(true);
    expect(composeArgv.converges(p, composeArgv.canary(p, "service1", "tk-canary"))).toBe(false);
    expect(composeArgv.converges(p, composeArgv.config(p))).toBe(false);
  }
  // A project named like a subcommand is not mistaken for one.
  const named = { ...v2, project: "up" };
  expect(composeArgv.converges(named, composeArgv.canary(named, "service1", "up-canary"))).toBe(false);
});
