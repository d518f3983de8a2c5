// Express on Node, the same route; modules come from the bench's own install (PEERS_DIR).
// PEER_WORK=bare: nothing else. PEER_WORK=logged: the work service1 does on every request, done
// Express's way: pino-http's access line, a request id (the caller's if it is safe, else a UUID,
// echoed in x-request-id) and a prom-client counter by method, route and status.
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.env.PEERS_DIR ?? ".", "index.js"));
const express = require("express");
const logged = process.env.PEER_WORK === "logged";
const VALID_REQUEST_ID = /^[\w.:-]{1,128}$/;

const app = express();
app.disable("x-powered-by");
if (logged) {
  const pinoHttp = require("pino-http");
  const { Counter, register } = require("prom-client");
  const requests = new Counter({
    name: "http_requests_total",
    help: "Requests served, by method, route and status.",
    labelNames: ["method", "route", "status"],
  });
  app.use(
    pinoHttp({
      genReqId: (req, res) => {
        const incoming = req.headers["x-request-id"];
        const id = typeof incoming === "string" && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
        res.setHeader("x-request-id", id);
        return id;
      },
    }),
  );
  app.use((req, res, next) => {
    res.on("finish", () => {
      requests.inc({ method: req.method, route: req.route?.path ?? "unmatched", status: res.statusCode });
    });
    next();
  });
  app.get("/metrics", async (_req, res) => {
    res.type(register.contentType).send(await register.metrics());
  });
}
app.get("/healthz", (_req, res) => res.json({ status: "ok" }));
app.get("/v1/timestamp", (_req, res) => {
  const now = Date.now();
  res.json({ epoch: Math.floor(now / 1000), epochMs: now, iso: new Date(now).toISOString() });
});
app.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? "127.0.0.1");
