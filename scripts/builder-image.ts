/**
 * Assembles the shell-less Bun builder image from the Bun installed here, for machines that
 * cannot pull `oven/bun`: `bun scripts/builder-image.ts [--tag=T] [--force] [--verbose]`.
 * Skips the work when the tag already exists (use --force after upgrading Bun).
 */
import { exitWithUsageError, parseStrictArgs, UsageError } from "../lib/cli/strict-args";
import { errorText } from "../lib/errors";
import { ensureBuilderImage } from "../lib/images/builder";

const COMMAND = "builder-image";
const USAGE = "usage: bun scripts/builder-image.ts [--tag=IMAGE] [--force] [--verbose]";

const argsDef = {
  tag: { type: "string", description: "Image tag (default timekit/bun-builder:<pinned Bun version>)" },
  force: { type: "boolean", description: "Rebuild even when the tag exists" },
  verbose: { type: "boolean", description: "Print the build's output" },
  help: { type: "boolean", description: "Print the usage" },
} as const;

try {
  const values = parseStrictArgs(argsDef, process.argv.slice(2));
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const image = await ensureBuilderImage({
    ...(values.tag ? { tag: values.tag } : {}),
    force: values.force,
    ...(values.verbose ? { onProgress: (line: string) => console.error(line) } : {}),
  });
  console.log(`${image.tag} ${image.built ? "built" : "already present"} (${image.id})`);
} catch (error) {
  if (error instanceof UsageError) exitWithUsageError(error, COMMAND, USAGE);
  console.error(`${COMMAND}: ${errorText(error)}`);
  process.exit(1);
}
