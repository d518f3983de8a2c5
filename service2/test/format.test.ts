import { describe, expect, test } from "bun:test";
import { HttpError } from "@timekit/runtime";
import fc from "fast-check";
import { DateTime, FixedOffsetZone } from "luxon";
import { compileFastFormat, localeFacts } from "../src/fast-format";
import { format, INTL_FORMATTER_BUDGET, luxonCacheResets, MAX_EPOCH_MS, toEpochMs } from "../src/format";
import { canonicalLocale, canonicalZone } from "../src/inputs";

const AT = Date.UTC(2025, 9, 28, 14, 10, 34, 123);

function errorOf(run: () => unknown): HttpError {
  try {
    run();
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error("expected an HttpError");
}

describe("format", () => {
  test.each([
    ["yyyy-MM-dd", "UTC", "en-US", "2025-10-28"],
    ["yyyy-MM-dd HH:mm:ss.SSS", "Europe/Zagreb", "en-US", "2025-10-28 15:10:34.123"],
    ["EEEE, d MMMM yyyy", "Europe/Zagreb", "hr-HR", "utorak, 28 listopada 2025"],
    ["EEE MMM d h:mm a", "America/New_York", "en-US", "Tue Oct 28 10:10 AM"],
    ["yyyy-MM-dd'T'HH:mmZZ", "Asia/Kolkata", "en-US", "2025-10-28T19:40+05:30"],
    ["'week' W 'of' kkkk", "UTC", "en-US", "week 44 of 2025"],
    ["dd.MM.yyyy", "Pacific/Kiritimati", "de-DE", "29.10.2025"],
  ])("%p in %s (%s) → %p", (pattern, tz, locale, expected) => {
    expect(format({ epochMs: AT, pattern, tz, locale })).toEqual({
      formatted: expected,
      epochMs: AT,
      pattern,
      tz,
      locale,
    });
  });

  test.each([
    ["pattern", { pattern: "YYYY-MM-dd" }, "INVALID_PATTERN", "unknown date field 'YYYY' at position 1"],
    ["pattern", { pattern: "yyyy 'open" }, "INVALID_PATTERN", "unclosed single quote"],
    ["pattern", { pattern: "" }, "INVALID_PATTERN", "must be 1 to 64 characters"],
    ["pattern", { pattern: "y".repeat(65) }, "INVALID_PATTERN", "must be 1 to 64 characters"],
    ["pattern", { pattern: "yyyy\u0000" }, "INVALID_PATTERN", "control characters"],
    ["tz", { tz: "Mars/Olympus_Mons" }, "INVALID_TZ", "'Mars/Olympus_Mons' is not a time zone this server knows"],
    ["tz", { tz: "" }, "INVALID_TZ", "must be 1 to 64 characters"],
    ["tz", { tz: "system" }, "INVALID_TZ", "'system' would mean this server's own zone"],
    ["tz", { tz: "LOCAL" }, "INVALID_TZ", "'LOCAL' would mean this server's own zone"],
    ["tz", { tz: "default" }, "INVALID_TZ", "'default' would mean this server's own zone"],
    ["tz", { tz: "UTC+99" }, "INVALID_TZ", "'UTC+99' is not a time zone"],
    ["tz", { tz: "UTC+15:00" }, "INVALID_TZ", "fixed offsets are UTC±HH:MM within ±14:00"],
    ["tz", { tz: "UTC+05:10" }, "INVALID_TZ", "minutes 00, 15, 30 or 45"],
    ["tz", { tz: "UTC 05:30" }, "INVALID_TZ", "send '+' in a query string as %2B"],
    ["tz", { tz: "+05:30" }, "INVALID_TZ", "is not a time zone name"],
    ["tz", { tz: "Europe/../etc" }, "INVALID_TZ", "is not a time zone name"],
    ["locale", { locale: "en_US" }, "INVALID_LOCALE", "subtags are joined by '-', not '_'"],
    ["locale", { locale: "zz-ZZ" }, "INVALID_LOCALE", "'zz-ZZ' is not a locale this server can format in"],
    ["locale", { locale: "en-x-abcdefgh" }, "INVALID_LOCALE", "private-use subtags are not accepted"],
    ["locale", { locale: "th-TH-u-nu-thai" }, "INVALID_LOCALE", "extensions, variants and private-use"],
    ["locale", { locale: "de-DE-1996" }, "INVALID_LOCALE", "is not a locale this server accepts"],
    ["locale", { locale: "" }, "INVALID_LOCALE", "must be 1 to 35 characters"],
  ])("a bad %s is a 400 naming it", (field, override, code, message) => {
    const error = errorOf(() => format({ epochMs: AT, pattern: "yyyy", tz: "UTC", locale: "en-US", ...override }));
    expect(error.status).toBe(400);
    expect(error.code).toBe(code);
    expect(error.message).toStartWith(`${field}: `);
    expect(error.message).toContain(message);
  });
});

describe("canonical zones and locales", () => {
  test.each([
    ["UTC", "UTC"],
    ["utc", "UTC"],
    ["europe/zagreb", "Europe/Zagreb"],
    ["AMERICA/ARGENTINA/COMODRIVADAVIA", "America/Argentina/ComodRivadavia"],
    ["us/eastern", "US/Eastern"],
    ["etc/gmt+5", "Etc/GMT+5"],
    ["gmt", "GMT"],
    ["utc+05:30", "UTC+05:30"],
    ["UTC-14:00", "UTC-14:00"],
    ["UTC-00:00", "UTC+00:00"],
    ["UTC+14:00", "UTC+14:00"],
  ])("tz %p is %p", (raw, canonical) => {
    expect(canonicalZone(raw).name).toBe(canonical);
  });

  test("every case spelling of a zone gives one canonical zone object", () => {
    const spellings = ["America/New_York", "america/new_york", "AMERICA/NEW_YORK", "aMeRiCa/NeW_yOrK"];
    const zones = new Set(spellings.map((spelling) => canonicalZone(spelling)));
    expect(zones.size).toBe(1);
  });

  test("fixed offsets format with the offset", () => {
    const result = format({ epochMs: AT, pattern: "HH:mm ZZ", tz: "utc+05:30", locale: "en-US" });
    expect(result).toMatchObject({ formatted: "19:40 +05:30", tz: "UTC+05:30" });
  });

  test.each([
    ["en-US", "en-US"],
    ["EN-us", "en-US"],
    ["hr-hr", "hr-HR"],
    ["zh-hant-tw", "zh-Hant-TW"],
    ["es-419", "es-419"],
    ["iw", "he"],
    ["de", "de"],
  ])("locale %p resolves to %p", (raw, resolved) => {
    expect(canonicalLocale(raw)).toBe(resolved);
  });

  test("the answer reports the canonical zone and the resolved locale", () => {
    const result = format({ epochMs: AT, pattern: "yyyy-MM-dd HH:mm", tz: "EUROPE/ZAGREB", locale: "HR-hr" });
    expect(result).toEqual({
      formatted: "2025-10-28 15:10",
      epochMs: AT,
      pattern: "yyyy-MM-dd HH:mm",
      tz: "Europe/Zagreb",
      locale: "hr-HR",
    });
  });

  test("Luxon's caches are dropped once the formatter budget is spent, and formatting goes on", () => {
    const before = luxonCacheResets();
    const zones = Intl.supportedValuesOf("timeZone");
    const perCombination = 1 + 2; // one date field, plus two
    const combinations = Math.ceil((INTL_FORMATTER_BUDGET / perCombination) * 3);
    for (let i = 0; i < combinations; i++) {
      format({ epochMs: AT, pattern: "MMMM", tz: zones[i % zones.length] as string, locale: i % 2 ? "de" : "fr" });
    }
    expect(luxonCacheResets() - before).toBeGreaterThanOrEqual(2);
    expect(format({ epochMs: AT, pattern: "MMMM", tz: "UTC", locale: "hr" }).formatted).toBe("listopada");
  });

  test("repeating one combination in many spellings spends no budget", () => {
    format({ epochMs: AT, pattern: "yyyy", tz: "Asia/Tokyo", locale: "ja-JP" });
    const before = luxonCacheResets();
    for (let i = 0; i < 5000; i++) {
      const tz = [..."asia/tokyo"].map((c, k) => ((i >> k) & 1 ? c.toUpperCase() : c)).join("");
      format({ epochMs: AT, pattern: "yyyy", tz, locale: i % 2 ? "JA-jp" : "ja-jp" });
    }
    expect(luxonCacheResets()).toBe(before);
  });
});

describe("toEpochMs", () => {
  test.each([
    [{ epoch: 1761660634 }, 1761660634000],
    [{ epochMs: 1761660634123 }, 1761660634123],
    [{ iso: "2025-10-28T14:10:34.123Z" }, AT],
    [{ iso: "2025-10-28T16:10:34.123+02:00" }, AT],
    [{ iso: "2025-10-28T14:10:34.123" }, AT],
    [{ iso: "2025-10-28" }, Date.UTC(2025, 9, 28)],
    [{ epoch: -1 }, -1000],
  ])("%p → %i", (input, expected) => {
    expect(toEpochMs(input)).toBe(expected);
  });

  test.each([
    [{}, "INVALID_TIMESTAMP", "got none"],
    [{ epoch: 1, iso: "2025-01-01" }, "INVALID_TIMESTAMP", "got epoch and iso"],
    [{ epoch: 1, epochMs: 1, iso: "x" }, "INVALID_TIMESTAMP", "got epoch and epochMs and iso"],
    [{ iso: "yesterday" }, "INVALID_ISO", "iso: 'yesterday' is not an ISO-8601 date-time"],
    [{ iso: "2025-13-40" }, "INVALID_ISO", "is not an ISO-8601 date-time"],
    [{ epoch: 1.5 }, "INVALID_EPOCH", "epoch: must be an integer"],
    [{ epochMs: MAX_EPOCH_MS + 1 }, "INVALID_EPOCHMS", "epochMs: must be an integer"],
  ])("%p → 400 %s", (input, code, message) => {
    const error = errorOf(() => toEpochMs(input));
    expect(error.status).toBe(400);
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
  });
});

describe("properties", () => {
  const zones = Intl.supportedValuesOf("timeZone");
  const locales = ["en-US", "hr-HR", "de-DE", "ja-JP", "ar-EG", "fr", "zh-Hans-CN", "pt-BR"];
  const tokens = ["yyyy", "MM", "dd", "HH", "mm", "ss", "SSS", "EEEE", "MMMM", "a", "ZZ", "z", "D", "t", "kkkk", "WW"];
  const separators = ["-", " ", ":", "/", ".", "'T'", ", "];
  const validPattern = fc
    .array(fc.tuple(fc.constantFrom(...tokens), fc.constantFrom(...separators)), { minLength: 1, maxLength: 5 })
    .map((parts) => parts.map(([token, separator]) => token + separator).join(""))
    .filter((pattern) => pattern.length <= 64);

  test("any valid instant, zone, locale and pattern formats to a non-empty string", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -MAX_EPOCH_MS, max: MAX_EPOCH_MS }),
        fc.constantFrom(...zones),
        fc.constantFrom(...locales),
        validPattern,
        (epochMs, tz, locale, pattern) => {
          const result = format({ epochMs, tz, locale, pattern });
          return result.formatted.length > 0 && result.epochMs === epochMs;
        },
      ),
      { numRuns: 300 },
    );
  });

  test("any string as pattern, zone or locale either formats or is a 400, never another error", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 80 }),
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 40 }),
        (pattern, tz, locale) => {
          try {
            format({ epochMs: 0, pattern, tz, locale });
            return true;
          } catch (error) {
            return error instanceof HttpError && error.status === 400;
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test("any JSON value as a timestamp either parses or is a 400", () => {
    fc.assert(
      fc.property(
        fc.record({ epoch: fc.anything(), epochMs: fc.anything(), iso: fc.anything() }, { requiredKeys: [] }),
        (input) => {
          try {
            const ms = toEpochMs(input as never);
            return Number.isSafeInteger(ms);
          } catch (error) {
            return error instanceof HttpError && error.status === 400;
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test("epoch seconds and the ISO text of one instant give the same milliseconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_135_596_800, max: 253_402_300_799 }), (epoch) => {
        const iso = new Date(epoch * 1000).toISOString();
        return toEpochMs({ epoch }) === toEpochMs({ iso });
      }),
      { numRuns: 300 },
    );
  });
});

describe("the fast path formats exactly as Luxon does", () => {
  const luxonFormat = (epochMs: number, pattern: string, offset: number, locale: string) =>
    DateTime.fromMillis(epochMs, { zone: FixedOffsetZone.instance(offset), locale }).toFormat(pattern);

  /** Tokens the fast path takes in every locale with Latin digits, and those it takes in en-US only. */
  const NUMERIC_TOKENS =
    "S SSS u uu uuu s ss m mm h hh H HH d dd c E L LL M MM y yy yyyy yyyyyy o ooo q qq X x Z ZZ ZZZ ZZZZ ZZZZZ z".split(
      " ",
    );
  const ENGLISH_TOKENS = "a ccc cccc ccccc EEE EEEE EEEEE LLL LLLL LLLLL MMM MMMM MMMMM G GG GGGGG".split(" ");
  const LATIN_LOCALES = ["en-US", "en", "en-GB", "de-DE", "hr-HR", "fr", "ja-JP", "zh-Hant-TW", "es-419", "hi-IN"];
  const OTHER_DIGITS = ["ar-EG", "fa-IR", "bn-BD", "mr-IN", "my-MM", "ne-NP"];
  const literal = fc.oneof(
    fc.constantFrom("-", ":", "/", " ", ".", ", ", "  ", "'T'", "''", "@", "年", "😀"),
    fc.stringMatching(/^[A-Za-z ]{1,8}$/).map((text) => `'${text}'`),
  );
  /** Tokens always apart (a run of one letter is one token to Luxon: MM then M would read MMM). */
  const patternOf = (tokens: string[]) =>
    fc
      .array(fc.tuple(fc.constantFrom(...tokens), literal), { minLength: 1, maxLength: 6 })
      .map((parts) => parts.map(([token, text]) => token + text).join(""));
  const instant = fc.oneof(
    fc.bigInt({ min: -8_640_000_000_000_000n, max: 8_640_000_000_000_000n }).map(Number),
    // Years 0–99 and around zero, where two-digit years and signs are easy to get wrong.
    fc.integer({ min: -62_167_219_200, max: -59_011_459_200 }).map((seconds) => seconds * 1000 + 999),
    fc.integer({ min: -86_400_000 * 800, max: 86_400_000 * 800 }),
  );
  const offset = fc.oneof(fc.constant(0), fc.integer({ min: -14 * 60, max: 14 * 60 }));

  test("every pattern of numeric fields, offsets and literals, in every locale with Latin digits", () => {
    fc.assert(
      fc.property(
        instant,
        offset,
        fc.constantFrom(...LATIN_LOCALES),
        patternOf(NUMERIC_TOKENS),
        (epochMs, minutes, locale, pattern) => {
          const fast = compileFastFormat(pattern, minutes, localeFacts(locale));
          expect(fast).toBeDefined();
          const local = epochMs + minutes * 60_000;
          const formatted = fast?.(epochMs);
          if (Math.abs(local) > 8.64e15) expect(formatted).toBeUndefined();
          else expect(formatted).toBe(luxonFormat(epochMs, pattern, minutes, locale));
        },
      ),
      { numRuns: 3000 },
    );
  });

  test("English names, AM/PM and eras in en and en-US, as Luxon writes them itself", () => {
    fc.assert(
      fc.property(
        instant,
        offset,
        fc.constantFrom("en-US", "en"),
        patternOf([...NUMERIC_TOKENS, ...ENGLISH_TOKENS]),
        (epochMs, minutes, locale, pattern) => {
          const formatted = compileFastFormat(pattern, minutes, localeFacts(locale))?.(epochMs);
          if (Math.abs(epochMs + minutes * 60_000) <= 8.64e15) {
            expect(formatted).toBe(luxonFormat(epochMs, pattern, minutes, locale));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("0000-02-29 is named as Luxon names it (its years 0–99 go through 1900, which has no Feb 29)", () => {
    // fast-check found it: -62162035080001 is 0000-02-29T23:59:59.999Z.
    for (const pattern of ["ccccc", "cccc", "EEE", "c", "E"]) {
      const fast = compileFastFormat(pattern, -2, localeFacts("en-US"));
      expect(fast?.(-62162035080001)).toBe(luxonFormat(-62162035080001, pattern, -2, "en-US"));
    }
  });

  test("Luxon keeps what the fast path does not take: names outside en-US, other digits, zones with rules, week fields and macros", () => {
    const facts = (locale: string) => localeFacts(locale);
    expect(compileFastFormat("MMMM", 0, facts("en-GB"))).toBeUndefined();
    expect(compileFastFormat("EEEE", 0, facts("de-DE"))).toBeUndefined();
    expect(compileFastFormat("a", 60, facts("hr-HR"))).toBeUndefined();
    for (const locale of OTHER_DIGITS) expect(compileFastFormat("yyyy", 0, facts(locale))).toBeUndefined();
    expect(compileFastFormat("yyyy-MM-dd", null, facts("en-US"))).toBeUndefined();
    for (const token of ["W", "WW", "kk", "kkkk", "n", "ii", "D", "DD", "t", "T", "f", "FFFF", "yyyyy", "YYYY"]) {
      expect(compileFastFormat(`yyyy ${token}`, 0, facts("en-US"))).toBeUndefined();
    }
  });

  test("any concatenation of tokens and literals the fast path takes is Luxon's output", () => {
    const any = fc
      .array(fc.oneof(fc.constantFrom(...NUMERIC_TOKENS, ...ENGLISH_TOKENS), literal), { minLength: 1, maxLength: 8 })
      .map((parts) => parts.join(""));
    fc.assert(
      fc.property(instant, offset, fc.constantFrom(...LATIN_LOCALES), any, (epochMs, minutes, locale, pattern) => {
        const formatted = compileFastFormat(pattern, minutes, localeFacts(locale))?.(epochMs);
        if (formatted !== undefined) expect(formatted).toBe(luxonFormat(epochMs, pattern, minutes, locale));
      }),
      { numRuns: 3000 },
    );
  });

  test("format() answers the default request without loading Luxon", () => {
    const script = `
      const { format, luxonLoaded } = await import(${JSON.stringify(new URL("../src/format.ts", import.meta.url).pathname)});
      const answers = [
        format({ epochMs: 1761660634123, pattern: "yyyy-MM-dd", tz: "UTC", locale: "en-US" }).formatted,
        format({ epochMs: 1761660634123, pattern: "dd.MM.yyyy HH:mm ZZ", tz: "UTC+05:30", locale: "de-DE" }).formatted,
      ];
      const before = luxonLoaded();
      answers.push(format({ epochMs: 1761660634123, pattern: "MMMM", tz: "Europe/Zagreb", locale: "hr-HR" }).formatted);
      console.log(JSON.stringify({ answers, before, after: luxonLoaded() }));`;
    const run = Bun.spawnSync([process.execPath, "-e", script], { cwd: new URL("..", import.meta.url).pathname });
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout.toString())).toEqual({
      answers: ["2025-10-28", "28.10.2025 19:40 +05:30", "listopada"],
      before: false,
      after: true,
    });
  });
});
