#!/usr/bin/env bun
/**
 * timekit's delivery CLI. Usage: `bun deploy.ts --help`; guide: docs/deploy.md; how it is built:
 * docs/architecture.md. Thin entry: the commands live in lib/cli/.
 */
import { exitOnSignals, main } from "./lib/cli/main";

exitOnSignals();

process.exit(await main(process.argv.slice(2)));
