import { createServiceApp, operation, type ServiceContext } from "@timekit/runtime";
import { type Static, t } from "elysia";
import { TIMESTAMP_PATH, TimestampSchema } from "./contract";
import type { settings } from "./settings";
import { legacyAnswer, timestampAt } from "./timestamp";

export interface Service1Deps extends ServiceContext<Static<typeof settings>> {
  /** The clock, in epoch milliseconds; tests pin it. */
  now?: () => number;
}

const TEXT = { "content-type": "text/plain; charset=utf-8" };
const ISO_EXAMPLE = "2025-10-28T14:10:34.123Z\n";

export function createApp({ config, logger, lifecycle, info, now = Date.now }: Service1Deps) {
  return createServiceApp({
    info,
    logger,
    lifecycle,
    maxBodyBytes: config.MAX_BODY_BYTES,
    // The route every caller (service2 on each request) hits: served from Bun's route table.
    nativeRoutes: [TIMESTAMP_PATH],
    description: "Timestamp generator: the current instant as epoch seconds, milliseconds and ISO-8601.",
  })
    .get(TIMESTAMP_PATH, () => timestampAt(now()), {
      response: TimestampSchema,
      detail: operation({
        operationId: "getTimestamp",
        summary: "The current instant.",
        tags: ["timestamp"],
        examples: { 200: { epoch: 1761660634, epochMs: 1761660634123, iso: "2025-10-28T14:10:34.123Z" } },
      }),
    })
    .get(
      "/",
      ({ set }) => {
        Object.assign(set.headers, TEXT);
        return legacyAnswer("", now());
      },
      {
        detail: operation({
          operationId: "getLegacyTimestamp",
          summary: "Legacy: the current instant as UTC ISO-8601 text.",
          tags: ["legacy"],
          text: { 200: { description: "UTC ISO-8601 with milliseconds and a newline.", example: ISO_EXAMPLE } },
        }),
      },
    )
    .post(
      "/",
      ({ body, set }) => {
        Object.assign(set.headers, TEXT);
        return legacyAnswer(body, now());
      },
      {
        parse: "text",
        body: t.String({ description: "A word on the first line: `timestamp`, `iso` or anything else." }),
        detail: operation({
          operationId: "postLegacyTimestamp",
          summary: "Legacy: first body line `timestamp` gives epoch seconds; anything else ISO-8601 text.",
          tags: ["legacy"],
          bodyOptional: true,
          text: {
            200: {
              description: "Epoch seconds for `timestamp`, else UTC ISO-8601; with a newline.",
              example: "1761660634\n",
            },
          },
        }),
      },
    );
}

export type Service1App = ReturnType<typeof createApp>;
