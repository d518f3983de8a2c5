/**
 * What was tried for each goal this machine misses, and what is left: the report prints it under
 * the goals table for every goal the run missed, after the run's own measured reason (the goal's
 * note). Figures here were measured when the attempt was made, and say when and how; the run's
 * own figures are in the report's tables.
 */
export const TRIED: Readonly<Record<string, string>> = {
  "service1-cpu":
    "Tried and kept: one fast lane in the runtime (the hottest route answered from Bun's route table with a pre-bound metrics series, prebuilt headers, and the access line built as a string into a buffer flushed every 200 ms, when full and on drain; pino went: 6.1 µs of CPU per line through pino against 0.4 µs for the buffered line, in 300,000-line rounds on one core). Before it, service1 cost 1.8–2.2× raw. The full run before this one, on the same machine while other work loaded it (2026-11-30 02:58), measured 1.18×; this quieter run's rounds spread from 1.03× to 1.41×, and its fastest rounds put the rest on the access line at `info` (the note). Not tried: writing the access line from a worker, or sampling it.",
  "service2-rss":
    "Tried: the runtime's fast lane (pino gone, a pre-bound metrics recorder, prebuilt headers) that took service1 under 1.5×. service2 holds more: the fetch client's keep-alive pool to service1 and each in-flight response, and Luxon for patterns the fast path does not take. Bun's `--smol` compiled in (`--compile-exec-argv=--smol`; 2026-11-30, two 5 s runs at -c50 while a CI run loaded the machine) gave 59.9–61.3 MiB against 62.3–62.7 MiB without: about 2 MiB, short of the budget, with CPU figures too noisy to compare; not adopted.",
  "two-hop-p99":
    "Not worked on: the budgets of this work are CPU per request, memory, start-up and deploys. At 50 connections on two processes pinned to one core, the tail is queueing behind the other process and the machine's other work; the min–max across rounds is in the throughput table.",
  "service1-vs-fastify":
    "The fast lane made service1 cheaper per request (the CPU ratio in the note is the figure to read); throughput against a peer moves with how each round's load shares the one core, and is capped by wrk's own core near 60k req/s.",
  "service1-vs-flask":
    "As for Fastify: by CPU per request (the note) Flask under one gunicorn worker costs an order of magnitude more; the throughput ratio moves with the rounds' noise.",
  "service1-cold-start":
    "Tried and kept: prom-client, Luxon and the OpenAPI generator load on first use from chunks of their own (`--splitting`), and supports-color stays out of the bundle: 246 → 167 ms in interleaved runs of both builds on a busy machine (2026-11-29). `--bytecode` (its rows in Cold start) shortens the start a good deal but adds 4.4–4.8 MB to each binary; the images are the Bun binary + about 6 MB, so it would break the image budget (the Bun binary + 8 MB) and the + 5 MB that `tests/docker/image.test.ts` holds: by those numbers, not used. What remains is evaluating Elysia and TypeBox, building the app and compiling its first handler (bare Elysia's row against raw `Bun.serve`'s shows the framework's share).",
  "service2-cold-start":
    "As for service1: 291 → 214 ms from the lazy chunks on the same busy machine (2026-11-29); service2 also loads its fetch client and the format fast path at start. `--bytecode` is not used, for the image budget.",
  "deploy-up":
    "Tried and kept (2026-11-30; 17.1 s before): the probe of each new container comes before Docker's health check, which a first deploy awaits in verify beside its requests; the edge starts beside service2 from a second Compose command; which Compose answers is asked in the background; both images and the edge are resolved at once; one engine query reads the project. Left: each Compose v1.29 command starts a Python interpreter (`docker-compose version` alone takes ~0.7 s here) and ~2 s to start containers; Docker 20.10 runs a container's first health check 2 s after it starts and has no `start_interval`; service2 starts only once service1 passed its probe. Not tried: service1 and service2 started in one step on a first deploy; the Compose v2 plugin (Go), not installed here.",
  "deploy-upgrade":
    "Tried and kept (2026-11-30; 13.4 s before): as for a first deploy, and the canary that passed is removed at once (`docker rm -f`: no request reaches it, nothing to drain) and verify looks the published port up once. Left: the canary is its own Compose command (`run`) and the new containers another (`up --scale`), each past Compose v1.29's start-up; the old containers go only once the new ones pass Docker's first health check, 2 s after they start.",
  "deploy-unchanged":
    "Tried and kept (2026-11-30; 3.27 s before): no wait for Compose's version when nothing changes, one engine query for the project, both images looked up at once. Left: Bun starting the CLI (the note's CLI figure) and each explicit version looked up in the engine (an inspect and a pin tag per image).",
  "deploy-unchanged-implicit":
    "As for a re-run with the same flags, without the image lookups: what runs is read from the record and one engine query.",
  "deploy-status":
    "One engine query for the project's containers, after the engine check; Bun's start of the CLI is most of the rest.",
};
