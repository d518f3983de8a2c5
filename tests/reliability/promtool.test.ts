import { afterAll, beforeAll, expect, test } from "bun:test";
import { freePort, type ServiceProcess, startService, stopAll } from "../integration/processes";

const promtool = Bun.which("promtool");
if (!promtool) {
  if (Bun.env.CI === "true")
    throw new Error("promtool is not installed; CI installs it with `apt-get install prometheus`");
  console.log("skipping the promtool test: no `promtool` on PATH (apt-get install prometheus)");
}

const started: ServiceProcess[] = [];
beforeAll(async () => {
  if (!promtool) return;
  const service1 = await startService("service1", { LOG_LEVEL: "warn" });
  started.push(service1);
  started.push(await startService("service2", { SERVICE1_URL: service1.url, LOG_LEVEL: "warn" }));
  // A service2 whose service1 is gone, so failure series (outcome="unavailable", failed lookups) exist too.
  started.push(await startService("service2", { SERVICE1_URL: `http://127.0.0.1:${freePort()}`, LOG_LEVEL: "warn" }));
});
afterAll(() => stopAll(started));

function check(text: string): { exitCode: number; output: string } {
  const result = Bun.spawnSync([promtool as string, "check", "metrics"], {
    stdin: new TextEncoder().encode(text),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { exitCode: result.exitCode, output: `${result.stdout}${result.stderr}`.trim() };
}

test.skipIf(!promtool)(
  "`promtool check metrics` passes on every service's real /metrics after traffic and failures",
  async () => {
    for (const service of started) {
      for (const path of ["/v1/format", "/v1/format?tz=local", "/", "/nope", "/v1/timestamp"])
        await fetch(`${service.url}${path}`);
      const text = await (await fetch(`${service.url}/metrics`)).text();
      expect(text).toContain("http_requests_total{");
      expect(check(text)).toEqual({ exitCode: 0, output: "" });
    }
  },
);

test.skipIf(!promtool)("promtool does reject what the services used to export", () => {
  const gauge =
    "# HELP nodejs_active_handles_total h\n# TYPE nodejs_active_handles_total gauge\nnodejs_active_handles_total 3\n";
  const result = check(gauge);
  expect(result.exitCode).not.toBe(0);
  expect(result.output).toContain('non-counter metrics should not have "_total" suffix');
});
