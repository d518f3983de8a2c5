import { setDefaultTimeout } from "bun:test";

// Suites that start real processes, containers or Prometheus need more than Bun's 5 s default; a
// test that hangs still fails, just later. Long suites set their own larger budgets. Bun 1.4.4
// applies this to the first test file of a run only: `bun run test` / `test:full` (scripts/test.ts)
// pass --timeout=20000, which reaches every file; a plain `bun test` of several files does not.
setDefaultTimeout(20_000);
