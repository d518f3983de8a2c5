/**
 * The Dockerfile and compose.yaml, checked without running anything: the offline linters
 * (dockerlinter, yamllint, Compose's own `config`) must report nothing, and compose.yaml must
 * agree with the code (every setting, with the code's default) and with the Dockerfile.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { describeConfig } from "@timekit/runtime";
import { settings as service1Settings } from "@timekit/service1/settings";
import { settings as service2Settings } from "@timekit/service2/settings";
import YAML from "yaml";
import { COMPOSE_FILE, composeCli, REPO_ROOT } from "../support/compose";
import { run, unavailable } from "../support/docker";

const DOCKERFILE = join(REPO_ROOT, "Dockerfile");
const EDGE_DOCKERFILE = join(REPO_ROOT, "edge", "Dockerfile");
const dockerfile = await Bun.file(DOCKERFILE).text();
const composeText = await Bun.file(COMPOSE_FILE).text();
// biome-ignore lint/suspicious/noExplicitAny: the parsed file is checked by assertions
const compose: any = YAML.parse(composeText, { merge: true });

const has = async (argv: string[]) => (await run(argv, { timeoutMs: 30_000 }).catch(() => null))?.exitCode === 0;
const yamllint = (await has(["yamllint", "--version"])) || unavailable("yamllint check", "yamllint is not installed");
const cli = await composeCli();
const composeReady =
  cli !== null || unavailable("compose config check", "neither `docker compose` nor `docker-compose` answers");

/** Compose's `${NAME:-fallback}`, spelled without tripping the template-literal lint. */
const variable = (name: string, fallback: string) => `\${${name}:-${fallback}}`;
const BIND = variable("TIMEKIT_BIND_ADDRESS", "127.0.0.1");

/** `${NAME:-default}` → { name, fallback }; anything else → null. */
function interpolation(value: unknown): { name: string; fallback: string } | null {
  const match = String(value).match(/^\$\{([A-Z0-9_]+):-([^}]*)\}$/);
  return match ? { name: match[1] as string, fallback: match[2] as string } : null;
}

describe("Dockerfile", () => {
  test.each([DOCKERFILE, EDGE_DOCKERFILE])(
    "dockerlinter reports nothing in %s, down to info level",
    async (file) => {
      const out = await run([join(REPO_ROOT, "node_modules/.bin/dockerlinter"), "-e", "info", "-f", file], {
        timeoutMs: 120_000,
      });
      expect({ exitCode: out.exitCode, findings: `${out.stdout}${out.stderr}`.trim() }).toEqual({
        exitCode: 0,
        findings: "",
      });
    },
    120_000,
  );

  test("copies every workspace's package.json before the install step, so `--frozen-lockfile` sees the whole workspace", async () => {
    const { workspaces } = (await Bun.file(join(REPO_ROOT, "package.json")).json()) as { workspaces: string[] };
    const manifests = workspaces.flatMap((pattern) => [
      ...new Bun.Glob(`${pattern}/package.json`).scanSync({ cwd: REPO_ROOT, onlyFiles: true }),
    ]);
    expect(manifests.length).toBeGreaterThanOrEqual(3);
    const install = dockerfile.indexOf('"bun", "install"');
    for (const manifest of manifests) {
      const dir = manifest.replace(/package\.json$/, "");
      const copy = dockerfile.indexOf(`COPY ${manifest} ${dir}\n`);
      expect({ manifest, copiedBeforeInstall: copy >= 0 && copy < install }).toEqual({
        manifest,
        copiedBeforeInstall: true,
      });
    }
  });

  test("runs only exec-form RUN steps (the local builder has no shell) and has one final stage, FROM scratch", () => {
    const instructions = dockerfile
      .replace(/\\\n\s*/g, " ")
      .split("\n")
      .filter((l) => /^[A-Z]+ /.test(l));
    for (const run of instructions.filter((l) => l.startsWith("RUN "))) expect(run).toMatch(/ \[".*"\]$/);
    const froms = instructions.filter((l) => l.startsWith("FROM "));
    expect(froms.at(-1)).toBe("FROM scratch");
    expect(froms).toHaveLength(2);
  });
});

describe("compose.yaml", () => {
  test.skipIf(!yamllint)(
    "yamllint (strict) reports nothing",
    async () => {
      const out = await run(["yamllint", "--strict", "--format", "parsable", COMPOSE_FILE], { timeoutMs: 60_000 });
      expect({ exitCode: out.exitCode, findings: out.stdout.trim() }).toEqual({ exitCode: 0, findings: "" });
    },
    120_000,
  );

  test.skipIf(!composeReady)(
    "Compose validates it, with the defaults and with every variable set",
    async () => {
      const variables = [...new Set([...composeText.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1] as string))];
      const unset = Object.fromEntries(variables.map((name) => [name, undefined]));
      const argv = [
        ...(cli?.argv ?? []),
        "--project-name",
        "timekit-test-lint",
        "--file",
        COMPOSE_FILE,
        "config",
        "--quiet",
      ];
      const defaults = await run(argv, { env: unset, timeoutMs: 60_000 });
      expect({ exitCode: defaults.exitCode, stderr: defaults.stderr.trim() }).toEqual({ exitCode: 0, stderr: "" });
      const custom = await run(argv, {
        env: {
          ...unset,
          REGISTRY: "127.0.0.1:5000/timekit",
          SERVICE1_VERSION: "1.2.3",
          SERVICE2_VERSION: "1.2.4-rc.1",
          SERVICE1_PORT: "18081-18089",
          SERVICE2_PORT: "18080",
          TIMEKIT_MEM_LIMIT: "128m",
          TIMEKIT_CPUS: "0.5",
          TIMEKIT_HEALTHCHECK_INTERVAL: "5s",
        },
        timeoutMs: 60_000,
      });
      expect({ exitCode: custom.exitCode, stderr: custom.stderr.trim() }).toEqual({ exitCode: 0, stderr: "" });
    },
    120_000,
  );

  test("has no top-level name (Compose v1.29 rejects it); the two services and the edge, and monitoring only by profile", () => {
    expect(compose.name).toBeUndefined();
    expect(compose.version).toBeUndefined();
    const byDefault = Object.entries(compose.services).filter(([, s]) => !(s as { profiles?: string[] }).profiles);
    expect(byDefault.map(([name]) => name).sort()).toEqual(["edge", "service1", "service2"]);
    for (const name of ["prometheus", "grafana"]) {
      const service = compose.services[name];
      expect(service.profiles).toEqual(["monitoring"]);
      expect(service.read_only).toBe(true);
      expect(service.cap_drop).toEqual(["ALL"]);
      expect(service.ports).toEqual([expect.stringMatching(/^\$\{TIMEKIT_BIND_ADDRESS:-127\.0\.0\.1\}:/)]);
    }
  });

  test.each([
    ["service1", service1Settings],
    ["service2", service2Settings],
  ] as const)("%s: every setting is an environment variable whose default is the code's", (service, settings) => {
    const environment = compose.services[service].environment as Record<string, string>;
    const expected = describeConfig(settings);
    // Runtime tunables beside the service's own settings: service2's DNS cache TTL for service1's replicas.
    const runtime = service === "service2" ? ["BUN_CONFIG_DNS_TIME_TO_LIVE_SECONDS"] : [];
    expect(Object.keys(environment).sort()).toEqual([...expected.map((s) => s.variable), ...runtime].sort());
    for (const setting of expected) {
      const value = environment[setting.variable];
      // PORT and HOST are fixed inside the container: the port mapping and the healthcheck rely on them.
      const fallback = interpolation(value)?.fallback ?? String(value);
      expect({ variable: setting.variable, default: fallback }).toEqual({
        variable: setting.variable,
        default: setting.default,
      });
    }
  });

  test.each(["service1", "service2"])("%s: image, build, hardening, health and loopback-only ports", (service) => {
    const s = compose.services[service];
    const upper = service.toUpperCase();
    expect(s.image).toBe(`${variable("REGISTRY", "timekit")}/${service}:${variable(`${upper}_VERSION`, "dev")}`);
    expect(s.build).toMatchObject({ context: ".", args: { SERVICE: service } });
    expect(s.container_name).toBeUndefined();
    expect(s.user).toBe("65532:65532");
    expect(s.read_only).toBe(true);
    expect(s.tmpfs).toEqual([expect.stringMatching(/^\/tmp:size=\d+m,/)]);
    expect(s.cap_drop).toEqual(["ALL"]);
    expect(s.security_opt).toEqual(["no-new-privileges:true"]);
    for (const key of ["mem_limit", "memswap_limit", "cpus", "pids_limit", "restart", "stop_grace_period"]) {
      expect({ key, set: s[key] !== undefined }).toEqual({ key, set: true });
    }
    expect(s.logging).toMatchObject({
      driver: "json-file",
      options: { "max-size": expect.any(String), "max-file": expect.any(String) },
    });
    expect(s.healthcheck.test).toEqual(["CMD", "/usr/local/bin/service", "--healthcheck"]);
    expect(dockerfile).toContain('ENTRYPOINT ["/usr/local/bin/service"]');
    expect(s.networks).toEqual(["backend"]);
    for (const port of s.ports ?? []) {
      expect(port).toStartWith(`${BIND}:`);
      expect(port).toEndWith(":8080");
    }
  });

  test("service1 publishes an ephemeral port (scalable); service2 none: the edge owns the fixed one", () => {
    expect(compose.services.service1.ports).toEqual([`${BIND}:${variable("SERVICE1_PORT", "")}:8080`]);
    expect(compose.services.service2.ports).toBeUndefined();
    expect(compose.services.edge.ports).toEqual([`${BIND}:${variable("SERVICE2_PORT", "8080")}:8080`]);
    expect(compose.services.service2.depends_on).toEqual({ service1: { condition: "service_healthy" } });
    expect(compose.services.edge.depends_on).toEqual({ service2: { condition: "service_healthy" } });
    expect(compose.services.service1.depends_on).toBeUndefined();
  });

  test("the edge: hardened like the services, a health check with no shell, on the same network", () => {
    const edge = compose.services.edge;
    expect(edge.image).toBe(variable("EDGE_IMAGE", "timekit/edge:dev"));
    expect(edge.user).toBe("65532:65532");
    expect(edge.read_only).toBe(true);
    expect(edge.cap_drop).toEqual(["ALL"]);
    expect(edge.security_opt).toEqual(["no-new-privileges:true"]);
    expect(edge.healthcheck.test.slice(0, 3)).toEqual(["CMD", "/usr/bin/caddy", "reload"]);
    expect(edge.healthcheck.test).toContain("127.0.0.1:2019");
    expect(edge.networks).toEqual(["backend"]);
  });

  test("compose.direct.yaml gives service2 the port and keeps the edge from starting", async () => {
    const direct = YAML.parse(await Bun.file(join(REPO_ROOT, "compose.direct.yaml")).text());
    expect(direct.services.service2.ports).toEqual([`${BIND}:${variable("SERVICE2_PORT", "8080")}:8080`]);
    expect(direct.services.edge.profiles).toEqual(["edge"]);
  });

  test("builds the edge with the same default Caddy image as edge/Dockerfile", async () => {
    const fromDockerfile = (await Bun.file(EDGE_DOCKERFILE).text()).match(/^ARG CADDY_IMAGE=(\S+)$/m)?.[1];
    expect(fromDockerfile).toBeDefined();
    expect(compose.services.edge.build.context).toBe("edge");
    expect(interpolation(compose.services.edge.build.args.CADDY_IMAGE)).toEqual({
      name: "CADDY_IMAGE",
      fallback: fromDockerfile as string,
    });
  });

  test("builds with the same default builder image as the Dockerfile", () => {
    const fromDockerfile = dockerfile.match(/^ARG BUN_IMAGE=(\S+)$/m)?.[1];
    expect(fromDockerfile).toBeDefined();
    for (const service of ["service1", "service2"]) {
      expect(interpolation(compose.services[service].build.args.BUN_IMAGE)).toEqual({
        name: "BUN_IMAGE",
        fallback: fromDockerfile as string,
      });
    }
  });
});
