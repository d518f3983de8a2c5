/**
 * What docs/architecture.md says about lib/, checked against the code: which layer may import
 * which, that only the runner starts programs, and that a file over 250 lines says why.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { Glob } from "bun";

const ROOT = resolve(import.meta.dir, "../..");
const files = [...new Glob("lib/**/*.ts").scanSync(ROOT)].sort();

/** Repository-relative lib/ files a file imports (type-only imports included: they are coupling too). */
function imports(file: string): string[] {
  const source = readFileSync(join(ROOT, file), "utf8");
  const specifiers = [...source.matchAll(/^(?:import|export)[^"']*from\s+["']([^"']+)["']/gm)].map(
    (m) => m[1] as string,
  );
  return specifiers
    .filter((s) => s.startsWith("."))
    .map((s) => relative(ROOT, resolve(dirname(join(ROOT, file)), s)).replace(/\.ts$/, ""))
    .map((s) => (files.includes(`${s}.ts`) ? `${s}.ts` : `${s}/index.ts`));
}

/** Layers from the top; a file may import its own layer and those below, never one above. */
const LAYERS: Array<[string, (file: string) => boolean]> = [
  ["cli", (f) => f.startsWith("lib/cli/")],
  ["actions", (f) => f.startsWith("lib/deploy/actions/")],
  ["targets", (f) => f.startsWith("lib/targets/")],
  [
    "model",
    (f) =>
      (f.startsWith("lib/deploy/") && !f.startsWith("lib/deploy/actions/")) ||
      f.startsWith("lib/images/") ||
      f.startsWith("lib/k8s/") ||
      f.startsWith("lib/release/") ||
      f.startsWith("lib/ci/"),
  ],
  ["base", (f) => /^lib\/[a-z-]+\.ts$/.test(f)],
];
const layerOf = (file: string) => LAYERS.findIndex(([, matches]) => matches(file));

describe("layers: nothing imports a layer above its own", () => {
  test("every lib file belongs to a layer", () => {
    expect(files.filter((f) => layerOf(f) === -1)).toEqual([]);
    expect(files.length).toBeGreaterThan(50);
  });
  test.each(files)("%s", (file) => {
    const upward = imports(file).filter((target) => layerOf(target) < layerOf(file));
    expect(upward).toEqual([]);
  });
});

test("only lib/exec.ts starts programs (builder-stage.ts runs inside the image build, without it)", () => {
  const spawning = files.filter((f) => /Bun\.spawn|child_process|from "zx"/.test(readFileSync(join(ROOT, f), "utf8")));
  expect(spawning).toEqual(["lib/exec.ts", "lib/images/builder-stage.ts"]);
});

test("a lib file over 250 lines says at its top why", () => {
  const long = files
    .map((f) => ({ f, text: readFileSync(join(ROOT, f), "utf8") }))
    .filter(({ text }) => text.split("\n").length > 250)
    .filter(({ text }) => !/^\/\*\*\n \* Over 250 lines on purpose: /.test(text))
    .map(({ f }) => f);
  expect(long).toEqual([]);
});

test("the import scan resolves real imports, so the layer checks above can fail", () => {
  expect(imports("lib/cli/main.ts")).toContain("lib/cli/parse.ts");
  expect(imports("lib/targets/compose-stack.ts")).toEqual(
    expect.arrayContaining(["lib/deploy/plan.ts", "lib/exec.ts"]),
  );
  expect(layerOf("lib/deploy/plan.ts")).toBeGreaterThan(layerOf("lib/targets/compose.ts"));
});
