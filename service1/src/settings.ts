import { baseSettings } from "@timekit/runtime";
import { t } from "elysia";

/** service1 needs only the settings every service has. */
export const settings = t.Object({ ...baseSettings });
