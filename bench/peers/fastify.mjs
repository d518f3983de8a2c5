// Fastify on Node, the same route; modules from PEERS_DIR.
// PEER_WORK=bare: logger off (Fastify's default). PEER_WORK=logged: the work service1 does on every
// request, done Fastify's way: its pino request logging, a request id (the caller's if it is safe,
// else a UUID, echoed in x-request-id) and a prom-client counter by method, route and status.
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.env.PEERS_DIR ?? ".", "index.js"));
const Fastify = require("fastify");
const logged = process.env.PEER_WORK === "logged";
const VALID_REQUEST_ID = /^[\w.:-]{1,128}$/;

const app = Fastify(
  logged
    ? {
        logger: { level: "info" },
        genReqId: (req) => {
          const incoming = req.headers["x-request-id"];
          return typeof incoming === "string" && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
        },
      }
    : {},
);
if (logged) {
  const { Counter, register } = require("prom-client");
  const requests = new Counter({
    name: "http_requests_total",
    help: "Requests served, by method, route and status.",
    labelNames: ["method", "route", "status"],
  });
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    requests.inc({ method: request.method, route: request.routeOptions.url ?? "unmatched", status: reply.statusCode });
  });
  app.get("/metrics", async (_request, reply) => {
    reply.type(register.contentType);
    return register.metrics();
  });
}
app.get("/healthz", async () => ({ status: "ok" }));
app.get("/v1/timestamp", async () => {
  const now = Date.now();
  return { epoch: Math.floor(now / 1000), epochMs: now, iso: new Date(now).toISOString() };
});
await app.listen({ port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? "127.0.0.1" });
