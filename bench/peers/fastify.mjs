// Fastify on Node, the same route, logger off (its default); modules from PEERS_DIR.
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.env.PEERS_DIR ?? ".", "index.js"));
const Fastify = require("fastify");

const app = Fastify();
app.get("/healthz", async () => ({ status: "ok" }));
app.get("/v1/timestamp", async () => {
  const now = Date.now();
  return { epoch: Math.floor(now / 1000), epochMs: now, iso: new Date(now).toISOString() };
});
await app.listen({ port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? "127.0.0.1" });
