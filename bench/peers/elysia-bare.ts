// Elysia with no hooks: separates the framework's cost from what @timekit/runtime adds
// (access log, metrics, request id, security headers).
import { Elysia } from "elysia";

const port = Number(Bun.env.PORT ?? 8080);
const hostname = Bun.env.HOST ?? "127.0.0.1";

new Elysia()
  .get("/healthz", () => ({ status: "ok" }))
  .get("/v1/timestamp", () => {
    const now = Date.now();
    return { epoch: Math.floor(now / 1000), epochMs: now, iso: new Date(now).toISOString() };
  })
  .listen({ port, hostname });
