#!/usr/bin/env bun
/**
 * timekit's delivery CLI. Usage: `bun deploy.ts --help`; guide: docs/deploy.md.
 * Thin entry: the commands live in lib/deploy/.
 */
import { main } from "./lib/deploy/cli";

process.exit(await main(process.argv.slice(2)));
