import { baseSettings, setting } from "@timekit/runtime";
import { t } from "elysia";

export const settings = t.Object({
  ...baseSettings,
  SERVICE1_URL: setting.httpUrl({
    default: "http://service1:8080",
    description:
      "Base URL of service1. Its host may stand for several addresses (replicas): calls are spread over all of them. Credentials in it are sent as Basic auth and appear in logs with the password redacted.",
  }),
  SERVICE1_RESOLVE_INTERVAL_MS: setting.duration({
    default: 2000,
    minimum: 100,
    maximum: 60000,
    description:
      "How often service2 looks up every address of SERVICE1_URL's host (and soon after a connection to one fails): new replicas get calls from then on, vanished ones are dropped.",
  }),
  SERVICE1_TIMEOUT_MS: setting.duration({
    default: 1000,
    minimum: 10,
    maximum: 60000,
    description: "Budget for one call to service1, retries included; past it the caller gets 504.",
  }),
  SERVICE1_ATTEMPT_TIMEOUT_MS: setting.duration({
    default: 400,
    minimum: 10,
    maximum: 60000,
    description: "Budget for one attempt, within SERVICE1_TIMEOUT_MS; an attempt past it is abandoned and retried.",
  }),
  SERVICE1_RETRIES: setting.integer({
    default: 2,
    minimum: 0,
    maximum: 5,
    description: "Extra attempts after a connection failure, an attempt timeout or a 502/503/504 from service1.",
  }),
  SERVICE1_RETRY_BACKOFF_MS: setting.duration({
    default: 25,
    minimum: 0,
    maximum: 5000,
    description: "First retry pause; doubles each retry, with jitter, within the timeout.",
  }),
});
