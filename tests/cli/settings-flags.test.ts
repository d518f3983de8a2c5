import { describe, expect, test } from "bun:test";
import { settings as service1Settings } from "@timekit/service1/settings";
import { settings as service2Settings } from "@timekit/service2/settings";
import { checkSetting as checkParam, SETTING_FLAGS as PARAMS } from "../../lib/cli/settings-flags";
import { WIRED_SETTINGS } from "../../lib/settings";

describe("deploy flags come from the services' own settings", () => {
  test.each([
    ["service1", service1Settings],
    ["service2", service2Settings],
  ] as const)("every %s setting is either wired by the deploy or has a flag", (service, schema) => {
    const flagged = PARAMS.filter((param) => param.service === service).map((param) => param.env);
    const expected = Object.keys(schema.properties).filter((env) => !WIRED_SETTINGS.has(env));
    expect(flagged.sort()).toEqual(expected.sort());
  });

  test.each([
    ["log_level_service1", "chatty", "use one of fatal, error, warn, info, debug, trace, silent"],
    ["max_body_bytes_service2", "100", "use a whole number from 256 to 1048576"],
    ["upstream_attempt_timeout", "5ms", "use a duration from 10ms to 60000ms"],
    ["upstream_retries", "6", "use a whole number from 0 to 5"],
  ])("--%s=%s is refused with the service's own bounds", (flag, raw, message) => {
    const spec = PARAMS.find((param) => param.flag === flag);
    expect(spec).toBeDefined();
    const result = spec ? checkParam(spec, raw) : { value: "" };
    expect("error" in result ? result.error : "").toContain(message);
  });

  test.each([
    ["upstream_attempt_timeout", "1.5s", "1500"],
    ["shutdown_delay_service1", "2s", "2000"],
    ["log_level_service2", "debug", "debug"],
  ])("--%s=%s becomes %s in the environment", (flag, raw, value) => {
    const spec = PARAMS.find((param) => param.flag === flag);
    expect(spec ? checkParam(spec, raw) : undefined).toEqual({ value });
  });
});
