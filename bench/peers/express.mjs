// Express on Node, the same route; modules come from the bench's own install (PEERS_DIR).
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.env.PEERS_DIR ?? ".", "index.js"));
const express = require("express");

const app = express();
app.disable("x-powered-by");
app.get("/healthz", (_req, res) => res.json({ status: "ok" }));
app.get("/v1/timestamp", (_req, res) => {
  const now = Date.now();
  res.json({ epoch: Math.floor(now / 1000), epochMs: now, iso: new Date(now).toISOString() });
});
app.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? "127.0.0.1");
