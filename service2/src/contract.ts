import { Type } from "@sinclair/typebox";
import { t } from "elysia";

/**
 * What service2 promises its callers. The deployer checks a new service2's answer against this
 * schema before it takes traffic (lib/deploy/gate.ts), so the shape lives in one place.
 */
export const FORMAT_PATH = "/v1/format";

export const FormattedSchema = t.Object(
  {
    formatted: t.String(),
    epochMs: Type.Integer(),
    pattern: t.String(),
    tz: t.String({ description: "The zone used, canonically spelled." }),
    locale: t.String({ description: "The locale used, as the runtime resolved the one asked for." }),
  },
  { description: "The instant, formatted." },
);

export type Formatted = typeof FormattedSchema.static;
