/** The repository files a TypeScript entry point reaches through static imports (what bun build bundles). */
import { readFileSync, realpathSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, relative, sep } from "node:path";

const transpiler = new Bun.Transpiler({ loader: "ts" });
const BUILTINS = new Set(builtinModules);

function isBuiltin(specifier: string): boolean {
  return (
    specifier.startsWith("node:") || specifier === "bun" || specifier.startsWith("bun:") || BUILTINS.has(specifier)
  );
}

/**
 * Repository-relative paths of every file `entry` imports, directly or not, outside node_modules.
 * `dynamic: false` leaves out what is only reached through `import()` (loaded lazily, if ever).
 */
export function repositoryImportGraph(repoRoot: string, entry: string, options: { dynamic?: boolean } = {}): string[] {
  const followDynamic = options.dynamic ?? true;
  const root = realpathSync(repoRoot) + sep;
  const seen = new Set<string>();
  const pending = [realpathSync(`${root}${entry}`)];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!/\.[cm]?[jt]sx?$/.test(file)) continue; // JSON and other assets are leaves
    // Type-only imports are dropped by the scan, as they are by the bundler.
    for (const { path, kind } of transpiler.scanImports(readFileSync(file, "utf8"))) {
      if (isBuiltin(path) || (!followDynamic && kind === "dynamic-import")) continue;
      const resolved = realpathSync(Bun.resolveSync(path, dirname(file)));
      if (resolved.startsWith(root) && !resolved.includes(`${sep}node_modules${sep}`)) pending.push(resolved);
    }
  }
  return [...seen].map((file) => relative(root, file).split(sep).join("/")).sort();
}
