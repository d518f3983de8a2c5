// The practical limit: Bun.serve with no framework, answering what service1 answers.
const port = Number(Bun.env.PORT ?? 8080);
const hostname = Bun.env.HOST ?? "127.0.0.1";

Bun.serve({
  port,
  hostname,
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/healthz") return Response.json({ status: "ok" });
    if (path === "/v1/timestamp") {
      const now = Date.now();
      return Response.json({ epoch: Math.floor(now / 1000), epochMs: now, iso: new Date(now).toISOString() });
    }
    return new Response("not found", { status: 404 });
  },
});
