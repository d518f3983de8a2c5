import { createServiceApp, type ServiceContext } from "@timekit/runtime";
import { type Static, t } from "elysia";
import { TIMESTAMP_PATH, TimestampSchema } from "./contract";
import type { settings } from "./settings";
import { legacyAnswer, timestampAt } from "./timestamp";

export interface Service1Deps extends ServiceContext<Static<typeof settings>> {
  /** The clock, in epoch milliseconds; tests pin it. */
  now?: () => number;
}

const TEXT = { "content-type": "text/plain; charset=utf-8" };

export function createApp({ config, logger, lifecycle, info, now = Date.now }: Service1Deps) {
  return createServiceApp({
    info,
    logger,
    lifecycle,
    maxBodyBytes: config.MAX_BODY_BYTES,
    description: "Timestamp generator: the current instant as epoch seconds, milliseconds and ISO-8601.",
  })
    .get(TIMESTAMP_PATH, () => timestampAt(now()), {
      response: TimestampSchema,
      detail: { summary: "The current instant.", tags: ["timestamp"] },
    })
    .get(
      "/",
      ({ set }) => {
        Object.assign(set.headers, TEXT);
        return legacyAnswer("", now());
      },
      { detail: { summary: "Legacy: the current instant as UTC ISO-8601 text.", tags: ["legacy"] } },
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
        detail: {
          summary: "Legacy: first body line `timestamp` gives epoch seconds; anything else ISO-8601 text.",
          tags: ["legacy"],
        },
      },
    );
}

export type Service1App = ReturnType<typeof createApp>;
