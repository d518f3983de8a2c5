#!/usr/bin/env bun
/**
 * timekit's delivery CLI. Usage: `bun deploy.ts --help`; guide: docs/deploy.md; how it is built:
 * docs/architecture.md. Thin entry: the commands live in lib/cli/.
 */
import { main } from "./lib/cli/main";

// Ctrl-C / SIGTERM go through process.exit so 'exit' handlers (the deploy lock) run.
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));

process.exit(await main(process.argv.slice(2)));
