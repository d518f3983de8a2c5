import { createHttpMetrics, createServiceApp, ErrorSchema, HttpError, type ServiceContext } from "@timekit/runtime";
import { type Static, t } from "elysia";
import {
  DEFAULT_LOCALE,
  DEFAULT_PATTERN,
  DEFAULT_TZ,
  format,
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
}

const FormatOptions = {
  pattern: t.Optional(
    t.String({ maxLength: MAX_PATTERN_LENGTH, description: `Unicode date fields; default ${DEFAULT_PATTERN}.` }),
  ),
  tz: t.Optional(t.String({ maxLength: MAX_TZ_LENGTH, description: `IANA time zone; default ${DEFAULT_TZ}.` })),
  locale: t.Optional(
    t.String({ maxLength: MAX_LOCALE_LENGTH, description: `BCP 47 locale; default ${DEFAULT_LOCALE}.` }),
  ),
};

const FormatBody = t.Object(
  {
    epoch: t.Optional(t.Integer({ minimum: -MAX_EPOCH, maximum: MAX_EPOCH, description: "Unix seconds." })),
    epochMs: t.Optional(
      t.Integer({ minimum: -MAX_EPOCH_MS, maximum: MAX_EPOCH_MS, description: "Unix milliseconds." }),
    ),
    iso: t.Optional(t.String({ maxLength: MAX_ISO_LENGTH, description: "ISO-8601; no offset means UTC." })),
    ...FormatOptions,
  },
  { additionalProperties: false, description: "Exactly one of epoch, epochMs or iso, plus formatting options." },
);

const FormattedSchema = t.Object({
  formatted: t.String(),
  epochMs: t.Integer(),
  pattern: t.String(),
  tz: t.String(),
  locale: t.String(),
});

const FORMAT_ERRORS = { 400: ErrorSchema, 502: ErrorSchema, 503: ErrorSchema, 504: ErrorSchema };
const TEXT = { "content-type": "text/plain; charset=utf-8" };

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

export function createApp({ config, logger, lifecycle, info, fetch }: Service2Deps) {
  const metrics = createHttpMetrics(info.service);
  const service1 = new Service1Client({
    baseUrl: config.SERVICE1_URL,
    timeoutMs: config.SERVICE1_TIMEOUT_MS,
    attemptTimeoutMs: config.SERVICE1_ATTEMPT_TIMEOUT_MS,
    retries: config.SERVICE1_RETRIES,
    backoffMs: config.SERVICE1_RETRY_BACKOFF_MS,
    logger,
    registry: metrics.registry,
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

  return createServiceApp({
    info,
    logger,
    lifecycle,
    metrics,
    maxBodyBytes: config.MAX_BODY_BYTES,
    description: "Timestamp formatter: formats service1's current time, or a given instant, in any zone and locale.",
  })
    .get("/v1/format", async ({ query, requestId }) => formatAt((await service1.timestamp(requestId)).epochMs, query), {
      query: t.Object(FormatOptions),
      response: { 200: FormattedSchema, ...FORMAT_ERRORS },
      detail: { summary: "Format service1's current time.", tags: ["format"] },
    })
    .post("/v1/format", ({ body }) => formatAt(toEpochMs(body), body), {
      // JSON whatever the content type says, so a mislabelled body is read, and a non-JSON one is named.
      parse: "json",
      body: FormatBody,
      response: { 200: FormattedSchema, 400: ErrorSchema },
      detail: { summary: "Format a given instant; does not call service1.", tags: ["format"] },
    })
    .get("/", ({ requestId, set }) => legacy("", requestId, set), {
      detail: { summary: "Legacy: today's UTC date from service1, as YYYY-MM-DD text.", tags: ["legacy"] },
    })
    .post("/", ({ body, requestId, set }) => legacy(body, requestId, set), {
      parse: "text",
      body: t.String({ description: "`iso` (or empty) or `timestamp`: which service1 answer to use." }),
      detail: { summary: "Legacy: service1's answer as a UTC YYYY-MM-DD date; other words get 400.", tags: ["legacy"] },
    });
}

export type Service2App = ReturnType<typeof createApp>;
