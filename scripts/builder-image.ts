/**
 * Assembles the shell-less Bun builder image from the Bun installed here, for machines that
 * cannot pull `oven/bun`: `bun scripts/builder-image.ts [--tag=T] [--force] [--verbose]`.
 * Skips the work when the tag already exists (use --force after upgrading Bun).
 */
import { parseArgs } from "node:util";
import { ensureBuilderImage } from "../lib/docker/builder";
import { DockerError } from "../lib/docker/engine";

const USAGE = "usage: bun scripts/builder-image.ts [--tag=IMAGE] [--force] [--verbose]";

function options() {
  try {
    return parseArgs({
      options: {
        tag: { type: "string" },
        force: { type: "boolean", default: false },
        verbose: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    console.error(`builder-image: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const values = options();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

try {
  const image = await ensureBuilderImage({
    ...(values.tag ? { tag: values.tag } : {}),
    force: values.force,
    ...(values.verbose ? { onProgress: (line: string) => console.error(line) } : {}),
  });
  console.log(`${image.tag} ${image.built ? "built" : "already present"} (${image.id})`);
} catch (error) {
  console.error(`builder-image: ${error instanceof DockerError ? error.message : String(error)}`);
  process.exit(1);
}
