/** The Compose command lines the Compose target runs, table-tested (tests/deploy/compose.test.ts runs them for real). */
import { expect, test } from "bun:test";
import { type ComposeProject, composeArgv, composeVariables } from "../../lib/targets/compose-argv";

const v2: ComposeProject = {
  command: ["docker", "compose"],
  project: "tk",
  directory: "/repo",
  files: ["/repo/compose.yaml", "/state/tk/compose.override.yaml"],
};
const v1: ComposeProject = { ...v2, command: ["docker-compose"] };
const base = "--project-name tk --project-directory /repo -f /repo/compose.yaml -f /state/tk/compose.override.yaml";

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
  ["down", composeArgv.down(v2, false), `docker compose ${base} down --remove-orphans`],
  ["down with volumes", composeArgv.down(v1, true), `docker-compose ${base} down --remove-orphans --volumes`],
] as const)("%s", (_name, argv, expected) => {
  expect(argv.join(" ")).toBe(expected);
});

test("containers are found by the labels Compose sets", () => {
  expect(composeArgv.labels("tk", "service2")).toEqual({
    "com.docker.compose.project": "tk",
    "com.docker.compose.service": "service2",
  });
});

test("Compose gets only the interpolation variable compose.yaml reads: service2's published port", () => {
  expect(composeVariables(18080)).toEqual({ SERVICE2_PORT: "18080" });
});
