import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseManifests } from "../../lib/k8s/objects";
import { REPO_ROOT } from "../../lib/k8s/paths";
import { defaultInput } from "../../lib/k8s/render";
import { describeWith, RENDER_TIMEOUT_MS } from "./support";

const CLI = join(REPO_ROOT, "lib", "k8s", "cli.ts");
let scratch: string;
let inputFile: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "timekit-k8s-cli-"));
  inputFile = join(scratch, "input.json");
  await Bun.write(inputFile, JSON.stringify(defaultInput({ overlay: "kind" })));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const child = Bun.spawn([process.execPath, CLI, ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { stdout, stderr, code };
}

test(
  "bad flags and bad input exit 2 with the reason, before any tool runs",
  async () => {
    const unknown = await cli("render", "--target=k8s", `--input=${inputFile}`, "--tag=1.0.0");
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining("unknown flag --tag")]);
    const target = await cli("render", "--target=kube", `--input=${inputFile}`);
    expect([target.code, target.stderr]).toEqual([2, expect.stringContaining("--target must be one of k8s, helm")]);
    const action = await cli("apply", `--input=${inputFile}`);
    expect([action.code, action.stderr]).toEqual([2, expect.stringContaining("must be render or values")]);
    const latest = join(scratch, "latest.json");
    const input = defaultInput();
    input.services.service1.tag = "latest";
    await Bun.write(latest, JSON.stringify(input));
    const bad = await cli("render", "--target=helm", `--input=${latest}`);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('services.service1.tag="latest"')]);
    const missing = await cli("render", "--target=k8s", `--input=${join(scratch, "nope.json")}`);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining("no such file")]);
  },
  RENDER_TIMEOUT_MS,
);

describeWith(["kubectl", "helm"], "lib/k8s/cli.ts", () => {
  test(
    "render prints the manifest for both targets",
    async () => {
      for (const target of ["k8s", "helm"]) {
        const { stdout, code } = await cli("render", `--target=${target}`, `--input=${inputFile}`);
        expect(code).toBe(0);
        const kinds = parseManifests(stdout, target).map((o) => o.kind);
        expect(kinds).toEqual(expect.arrayContaining(["Deployment", "Service", "NetworkPolicy"]));
      }
    },
    RENDER_TIMEOUT_MS,
  );

  test(
    "values prints the chart values the Helm render uses",
    async () => {
      const { stdout, code } = await cli("values", "--service=service2", `--input=${inputFile}`);
      expect(code).toBe(0);
      const values = JSON.parse(stdout);
      expect(values.image).toEqual({ repository: "timekit/service2", tag: "1.0.0", digest: "" });
      expect(values.service).toEqual({ type: "NodePort", nodePort: 30080 });
      expect(values.config.service1Url).toBe("http://service1:8080");
    },
    RENDER_TIMEOUT_MS,
  );
});
