import { setDefaultTimeout } from "bun:test";

// Suites that start real processes, containers or Prometheus need more than Bun's 5 s default; a
// test that hangs still fails, just later. Long suites set their own larger budgets.
setDefaultTimeout(20_000);
