import { HttpError } from "@timekit/runtime";
import { DateTime } from "luxon";

export const DEFAULT_PATTERN = "yyyy-MM-dd";
export const DEFAULT_TZ = "UTC";
export const DEFAULT_LOCALE = "en-US";
export const MAX_PATTERN_LENGTH = 64;
export const MAX_TZ_LENGTH = 64;
export const MAX_LOCALE_LENGTH = 35;
export const MAX_ISO_LENGTH = 64;
/** JavaScript dates (and Luxon) cover ±8.64e15 ms around the epoch. */
export const MAX_EPOCH_MS = 8_640_000_000_000_000;
export const MAX_EPOCH = MAX_EPOCH_MS / 1000;

/**
 * The date-field tokens Luxon formats: Unicode (LDML) symbols plus Luxon's localized macros (D, t,
 * T, f, F). Any other run of letters would be printed literally, which hides typos such as `YYYY`,
 * so it is rejected; literal text goes in single quotes.
 */
const TOKENS = new Set(
  (
    "S SSS u uu uuu s ss m mm h hh H HH Z ZZ ZZZ ZZZZ ZZZZZ z a d dd c ccc cccc ccccc " +
    "E EEE EEEE EEEEE L LL LLL LLLL LLLLL M MM MMM MMMM MMMMM y yy yyyy yyyyyy G GG GGGGG " +
    "kk kkkk W WW n nn ii iiii o ooo q qq X x D DD DDD DDDD t tt ttt tttt T TT TTT TTTT " +
    "f ff fff ffff F FF FFF FFFF"
  ).split(" "),
);

function invalid(field: string, message: string): HttpError {
  return new HttpError(400, `INVALID_${field.toUpperCase()}`, `${field}: ${message}`);
}

// Zone and locale checks build Intl objects (~80 µs): remember inputs that passed before.
const KNOWN_NAMES_LIMIT = 1000;
const validZones = new Set<string>();
const validLocales = new Set<string>();
const validPatterns = new Set<string>();

function remember(cache: Set<string>, name: string): void {
  if (cache.size >= KNOWN_NAMES_LIMIT) cache.clear();
  cache.add(name);
}

/** Throws a 400 naming the first token Luxon would not format. */
export function checkPattern(pattern: string): void {
  if (validPatterns.has(pattern)) return;
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
    throw invalid("pattern", `must be 1 to ${MAX_PATTERN_LENGTH} characters`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(pattern)) throw invalid("pattern", "must not contain control characters");
  let quoted = false;
  for (let i = 0; i < pattern.length; ) {
    const char = pattern.charAt(i);
    if (char === "'") {
      quoted = !quoted;
      i++;
      continue;
    }
    let end = i + 1;
    while (end < pattern.length && pattern.charAt(end) === char) end++;
    const run = pattern.slice(i, end);
    if (!quoted && /[A-Za-z]/.test(char) && !TOKENS.has(run)) {
      throw invalid(
        "pattern",
        `unknown date field '${run}' at position ${i + 1}; use Unicode date fields such as yyyy, MM, dd, HH, mm, ss, SSS, EEEE, MMMM, ZZ, z, and put literal text in single quotes`,
      );
    }
    i = end;
  }
  if (quoted) throw invalid("pattern", "has an unclosed single quote");
  remember(validPatterns, pattern);
}

export function checkZone(tz: string): void {
  if (validZones.has(tz)) return;
  if (tz.length === 0 || tz.length > MAX_TZ_LENGTH || !DateTime.fromMillis(0, { zone: tz }).isValid) {
    throw invalid(
      "tz",
      `'${tz.slice(0, MAX_TZ_LENGTH)}' is not an IANA time zone (e.g. UTC, Europe/Zagreb, America/New_York)`,
    );
  }
  remember(validZones, tz);
}

export function checkLocale(locale: string): void {
  if (validLocales.has(locale)) return;
  const shown = locale.slice(0, MAX_LOCALE_LENGTH);
  let supported: string[] = [];
  try {
    if (locale.length > 0 && locale.length <= MAX_LOCALE_LENGTH) {
      supported = Intl.DateTimeFormat.supportedLocalesOf([locale]);
    }
  } catch {
    throw invalid("locale", `'${shown}' is not a BCP 47 language tag (e.g. en-US, hr-HR, de)`);
  }
  if (supported.length === 0) {
    throw invalid("locale", `'${shown}' is not a supported BCP 47 locale (e.g. en-US, hr-HR, de)`);
  }
  remember(validLocales, locale);
}

export interface FormatRequest {
  epochMs: number;
  pattern: string;
  tz: string;
  locale: string;
}

export interface Formatted extends FormatRequest {
  formatted: string;
}

/** Checks every input, then formats; callers get a 400 naming the field, never a 500. */
export function format({ epochMs, pattern, tz, locale }: FormatRequest): Formatted {
  checkPattern(pattern);
  checkZone(tz);
  checkLocale(locale);
  if (!Number.isSafeInteger(epochMs) || Math.abs(epochMs) > MAX_EPOCH_MS) {
    throw invalid("epochMs", `must be an integer within ±${MAX_EPOCH_MS}`);
  }
  const formatted = DateTime.fromMillis(epochMs, { zone: tz, locale }).toFormat(pattern);
  return { formatted, epochMs, pattern, tz, locale };
}

export interface TimestampInput {
  epoch?: number;
  epochMs?: number;
  iso?: string;
}

/** Exactly one of epoch, epochMs or iso, as epoch milliseconds. */
export function toEpochMs(input: TimestampInput): number {
  const given = (["epoch", "epochMs", "iso"] as const).filter((key) => input[key] !== undefined);
  if (given.length !== 1) {
    throw new HttpError(
      400,
      "INVALID_TIMESTAMP",
      `exactly one of epoch, epochMs or iso is required; got ${given.length === 0 ? "none" : given.join(" and ")}`,
    );
  }
  if (input.epoch !== undefined) {
    if (!Number.isSafeInteger(input.epoch) || Math.abs(input.epoch) > MAX_EPOCH) {
      throw invalid("epoch", `must be an integer number of seconds within ±${MAX_EPOCH}`);
    }
    return input.epoch * 1000;
  }
  if (input.epochMs !== undefined) {
    if (!Number.isSafeInteger(input.epochMs) || Math.abs(input.epochMs) > MAX_EPOCH_MS) {
      throw invalid("epochMs", `must be an integer number of milliseconds within ±${MAX_EPOCH_MS}`);
    }
    return input.epochMs;
  }
  const iso = typeof input.iso === "string" ? input.iso : "";
  const parsed = iso.length <= MAX_ISO_LENGTH ? DateTime.fromISO(iso, { zone: "utc" }) : undefined;
  if (!parsed?.isValid) {
    throw invalid(
      "iso",
      `'${iso.slice(0, MAX_ISO_LENGTH)}' is not an ISO-8601 date-time (e.g. 2025-10-28T14:10:34Z); no offset means UTC`,
    );
  }
  return parsed.toMillis();
}
