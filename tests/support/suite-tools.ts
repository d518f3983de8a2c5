/**
 * A suite's start-up check of the commands lib/ci/tools.ts declares for it (SUITE_TOOLS), the
 * same list the runner-parity test checks on the runner's PATH. A missing command skips the
 * suite with one line, except under CI=true, where it fails: CI must not pass by skipping.
 */
import { relative, resolve } from "node:path";
import { SUITE_TOOLS } from "../../lib/ci/suites";
import { resolves } from "../../lib/ci/tools";

const REPO_ROOT = resolve(import.meta.dir, "..", "..");

/** The declared commands of `testFile` (a path, usually import.meta.path) that PATH lacks. */
export function missingSuiteTools(testFile: string, path = Bun.env.PATH ?? ""): string[] {
  const key = relative(REPO_ROOT, testFile).split("\\").join("/");
  const tools = SUITE_TOOLS[key];
  if (!tools) throw new Error(`${key} is not listed in SUITE_TOOLS (lib/ci/suites.ts): declare the commands it needs`);
  return tools.filter((tool) => !resolves(tool, path));
}

/** True when every declared command is on PATH; else logs why and returns false, or throws under CI=true. */
export function suiteToolsReady(testFile: string): boolean {
  const missing = missingSuiteTools(testFile);
  if (missing.length === 0) return true;
  const reason = `${relative(REPO_ROOT, testFile)} needs ${missing.join(", ")} on PATH (bun scripts/ci/install-tools.ts installs them)`;
  if (Bun.env.CI === "true") throw new Error(reason);
  console.log(`skipping: ${reason}`);
  return false;
}
