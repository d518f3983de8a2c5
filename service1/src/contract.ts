import { Type } from "@sinclair/typebox";
import { t } from "elysia";

/**
 * What service1 promises its callers. service2 imports these, so changing the shape here breaks
 * service2's typecheck instead of production.
 */
export const TIMESTAMP_PATH = "/v1/timestamp";

export const TimestampSchema = t.Object(
  {
    // TypeBox's integer, not Elysia's t.Integer, which also accepts numeric strings.
    epoch: Type.Integer({ description: "Unix time in whole seconds." }),
    epochMs: Type.Integer({ description: "Unix time in milliseconds." }),
    iso: t.String({ description: "The same instant as UTC ISO-8601 with milliseconds and Z." }),
  },
  { description: "One instant, three encodings." },
);

export type Timestamp = typeof TimestampSchema.static;

/** The legacy route answers epoch seconds for this first line and ISO-8601 for anything else. */
export const LEGACY_EPOCH_WORD = "timestamp";
