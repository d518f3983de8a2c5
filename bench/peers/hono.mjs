// Hono on Bun, the same route; modules from PEERS_DIR.
// PEER_WORK=bare: nothing else. PEER_WORK=logged: the work service1 does on every request, done
// Hono's way: its logger middleware, its request-id middleware (the caller's x-request-id if it is
// safe, else a UUID, echoed) and a prom-client counter by method, route and status.
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.env.PEERS_DIR ?? ".", "index.js"));
const { Hono } = require("hono");
const logged = process.env.PEER_WORK === "logged";

const app = new Hono();
if (logged) {
  const { logger } = require("hono/logger");
  const { requestId } = require("hono/request-id");
  const { routePath } = require("hono/route");
  const { Counter, register } = require("prom-client");
  const requests = new Counter({
    name: "http_requests_total",
    help: "Requests served, by method, route and status.",
    labelNames: ["method", "route", "status"],
  });
  app.use(requestId({ limitLength: 128 }));
  app.use(logger());
  app.use(async (c, next) => {
    await next();
    requests.inc({ method: c.req.method, route: routePath(c) ?? "unmatched", status: c.res.status });
  });
  app.get("/metrics", async (c) => c.body(await register.metrics(), 200, { "content-type": register.contentType }));
}
app.get("/healthz", (c) => c.json({ status: "ok" }));
app.get("/v1/timestamp", (c) => {
  const now = Date.now();
  return c.json({ epoch: Math.floor(now / 1000), epochMs: now, iso: new Date(now).toISOString() });
});
Bun.serve({ port: Number(process.env.PORT ?? 8080), hostname: process.env.HOST ?? "127.0.0.1", fetch: app.fetch });
