import { Type } from "@sinclair/typebox";
import { createServiceApp, ErrorSchema, HttpError, Metrics, operation, type ServiceContext } from "@timekit/runtime";
import { type Static, t } from "elysia";
import { FORMAT_PATH, FormattedSchema } from "./contract";
import type { Resolve } from "./endpoints";
import {
  DEFAULT_LOCALE,
  DEFAULT_PATTERN,
  DEFAULT_TZ,
  format,
  luxonCacheResets,
  MAX_EPOCH,
  MAX_EPOCH_MS,
  MAX_ISO_LENGTH,
  MAX_LOCALE_LENGTH,
  MAX_PATTERN_LENGTH,
  MAX_TZ_LENGTH,
  toEpochMs,
} from "./format";
import { type LegacyWord, Service1Client } from "./service1-client";
import type { settings } from "./settings";

export interface Service2Deps extends ServiceContext<Static<typeof settings>> {
  /** Replaces the real fetch to service1 (tests only). */
  fetch?: typeof fetch;
  /** Replaces the system resolver for service1's host (tests put several local processes behind one name). */
  resolve?: Resolve;
  /** TLS options for an https SERVICE1_URL (tests pass their own CA). */
  tls?: BunFetchRequestInitTLS;
}

const FormatOptions = {
  pattern: t.Optional(
    t.String({
      maxLength: MAX_PATTERN_LENGTH,
      description: `Unicode date fields, literal text in single quotes; default ${DEFAULT_PATTERN}.`,
      examples: ["EEEE, d MMMM yyyy HH:mm"],
    }),
  ),
  tz: t.Optional(
    t.String({
      maxLength: MAX_TZ_LENGTH,
      description: `IANA time zone, any case (the answer gives its canonical spelling), or a fixed offset UTC±HH:MM within ±14:00; default ${DEFAULT_TZ}.`,
      examples: ["Europe/Zagreb"],
    }),
  ),
  locale: t.Optional(
    t.String({
      maxLength: MAX_LOCALE_LENGTH,
      description: `BCP 47 language[-Script][-REGION], any case (the answer gives the locale used); default ${DEFAULT_LOCALE}.`,
      examples: ["hr-HR"],
    }),
  ),
};

const FormatBody = t.Object(
  {
    // TypeBox's integer, not Elysia's t.Integer, which also accepts numeric strings.
    epoch: t.Optional(Type.Integer({ minimum: -MAX_EPOCH, maximum: MAX_EPOCH, description: "Unix seconds." })),
    epochMs: t.Optional(
      Type.Integer({ minimum: -MAX_EPOCH_MS, maximum: MAX_EPOCH_MS, description: "Unix milliseconds." }),
    ),
    iso: t.Optional(t.String({ maxLength: MAX_ISO_LENGTH, description: "ISO-8601; no offset means UTC." })),
    ...FormatOptions,
  },
  { additionalProperties: false, description: "Exactly one of epoch, epochMs or iso, plus formatting options." },
);

const EXAMPLE_ANSWER = {
  formatted: "srijeda, 29 listopada 2025 00:30",
  epochMs: 1761694200000,
  pattern: "EEEE, d MMMM yyyy HH:mm",
  tz: "Europe/Zagreb",
  locale: "hr-HR",
};
const TEXT = { "content-type": "text/plain; charset=utf-8" };
const LEGACY_DATE = {
  description: "service1's answer as a UTC date, YYYY-MM-DD, with a newline.",
  example: "2025-10-28\n",
};
const LEGACY_UPSTREAM_ERRORS = {
  502: {
    description: "service1 answered something that is not a valid answer.",
    example: "service1 answered HTTP 500\n",
  },
  503: {
    description: "service1 could not be reached.",
    example: "service1 is unavailable: cannot connect (ECONNREFUSED)\n",
  },
  504: { description: "service1 did not answer in time.", example: "service1 did not answer within 1000 ms\n" },
};

type FormatOptionValues = { pattern?: string; tz?: string; locale?: string };

function formatAt(epochMs: number, options: FormatOptionValues) {
  return format({
    epochMs,
    pattern: options.pattern ?? DEFAULT_PATTERN,
    tz: options.tz ?? DEFAULT_TZ,
    locale: options.locale ?? DEFAULT_LOCALE,
  });
}

/** Legacy: the first body line picks service1's answer; empty means `iso`, like the original. */
function legacyWord(body: string): LegacyWord | undefined {
  const word = body.split("\n", 1)[0]?.trim() ?? "";
  if (word === "" || word === "iso") return "iso";
  if (word === "timestamp") return "timestamp";
  return undefined;
}

export function createApp({ config, logger, lifecycle, info, fetch, resolve, tls }: Service2Deps) {
  const metrics = new Metrics(info.service);
  metrics.counter({
    name: "format_cache_resets_total",
    help: "Times Luxon's Intl formatter caches were dropped to stay within their budget (many distinct zone/locale/pattern combinations).",
    collect: (counter) => {
      counter.reset();
      counter.inc({}, luxonCacheResets());
    },
  });
  const service1 = new Service1Client({
    baseUrl: config.SERVICE1_URL,
    timeoutMs: config.SERVICE1_TIMEOUT_MS,
    attemptTimeoutMs: config.SERVICE1_ATTEMPT_TIMEOUT_MS,
    retries: config.SERVICE1_RETRIES,
    backoffMs: config.SERVICE1_RETRY_BACKOFF_MS,
    resolveIntervalMs: config.SERVICE1_RESOLVE_INTERVAL_MS,
    resolve,
    tls,
    logger,
    metrics,
    fetch,
  });

  const legacy = async (
    body: string,
    requestId: string,
    set: { status?: number | string; headers: Record<string, unknown> },
  ) => {
    Object.assign(set.headers, TEXT);
    const word = legacyWord(body);
    if (!word) {
      set.status = 400;
      return "unknown word: send 'iso', 'timestamp' or an empty body\n";
    }
    try {
      const epochMs = await service1.legacy(word, requestId);
      return `${new Date(epochMs).toISOString().slice(0, 10)}\n`;
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      set.status = error.status;
      return `${error.message}\n`;
    }
  };

  const app = createServiceApp({
    info,
    logger,
    lifecycle,
    metrics,
    maxBodyBytes: config.MAX_BODY_BYTES,
    // Every caller's route: served from Bun's route table (queries Elysia would refuse go to Elysia).
    nativeRoutes: [FORMAT_PATH],
    description: "Timestamp formatter: formats service1's current time, or a given instant, in any zone and locale.",
  })
    .get(FORMAT_PATH, async ({ query, requestId }) => formatAt((await service1.timestamp(requestId)).epochMs, query), {
      query: t.Object(FormatOptions),
      response: { 200: FormattedSchema, 400: ErrorSchema, 502: ErrorSchema, 503: ErrorSchema, 504: ErrorSchema },
      detail: operation({
        operationId: "formatNow",
        summary: "Format service1's current time.",
        tags: ["format"],
        errors: [400, 502, 503, 504],
        examples: { 200: EXAMPLE_ANSWER },
      }),
    })
    .post(FORMAT_PATH, ({ body }) => formatAt(toEpochMs(body), body), {
      // JSON whatever the content type says, so a mislabelled body is read, and a non-JSON one is named.
      parse: "json",
      body: FormatBody,
      response: { 200: FormattedSchema, 400: ErrorSchema },
      detail: operation({
        operationId: "formatInstant",
        summary: "Format a given instant; does not call service1.",
        tags: ["format"],
        errors: [400],
        examples: { 200: EXAMPLE_ANSWER },
        requestExample: {
          iso: "2025-10-28T23:30:00Z",
          pattern: "EEEE, d MMMM yyyy HH:mm",
          tz: "Europe/Zagreb",
          locale: "hr-HR",
        },
      }),
    })
    .get("/", ({ requestId, set }) => legacy("", requestId, set), {
      detail: operation({
        operationId: "getLegacyDate",
        summary: "Legacy: today's UTC date from service1, as YYYY-MM-DD text.",
        tags: ["legacy"],
        text: { 200: LEGACY_DATE, ...LEGACY_UPSTREAM_ERRORS },
      }),
    })
    .post("/", ({ body, requestId, set }) => legacy(body, requestId, set), {
      parse: "text",
      body: t.String({ description: "`iso` (or empty) or `timestamp`: which service1 answer to use." }),
      detail: operation({
        operationId: "postLegacyDate",
        summary: "Legacy: service1's answer as a UTC YYYY-MM-DD date; other words get 400.",
        tags: ["legacy"],
        bodyOptional: true,
        text: {
          200: LEGACY_DATE,
          400: {
            description: "Any word but iso, timestamp or nothing.",
            example: "unknown word: send 'iso', 'timestamp' or an empty body\n",
          },
          ...LEGACY_UPSTREAM_ERRORS,
        },
      }),
    });
  return app;
}

export type Service2App = ReturnType<typeof createApp>;
