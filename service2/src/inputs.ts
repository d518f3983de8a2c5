import { HttpError } from "@timekit/runtime";
import { LRUCache } from "lru-cache";

/**
 * Client-chosen zones, locales and patterns, checked and reduced to one canonical spelling before
 * anything caches by them. Case variants of one zone (2^27 spellings of
 * America/Argentina/ComodRivadavia) then cost no memory, and locale tags that would (extensions,
 * private use) are refused: every cache below is keyed by lower case or bounded, and Luxon and ICU
 * only ever see canonical values.
 */

export const MAX_PATTERN_LENGTH = 64;
export const MAX_TZ_LENGTH = 64;
export const MAX_LOCALE_LENGTH = 35;
/** Zone spellings outside Intl's canonical list (links such as US/Eastern, fixed offsets), by lower case. */
export const ZONE_CACHE_SIZE = 512;
/** Locale tags already checked, by lower case, with the locale they resolve to. */
export const LOCALE_CACHE_SIZE = 1024;
/** Patterns already checked, with the number of date fields each has. */
export const PATTERN_CACHE_SIZE = 1024;
/** Fixed offsets: `UTC±HH:MM`, within ±14:00, minutes 00, 15, 30 or 45. */
export const MAX_OFFSET_MINUTES = 14 * 60;

export function invalid(field: string, message: string): HttpError {
  return new HttpError(400, `INVALID_${field.toUpperCase()}`, `${field}: ${message}`);
}

/**
 * What a zone spelling stands for: the name the response reports, and either its fixed offset
 * (UTC, GMT and UTC±HH:MM, which never move) or null for a zone with rules, which Luxon formats
 * through Intl (see format.ts; Luxon is only loaded when such a zone is first used).
 */
export interface CanonicalZone {
  name: string;
  /** Minutes east of UTC, for a zone whose offset never changes; null for an IANA zone with rules. */
  fixedOffset: number | null;
}

/**
 * UTC and GMT never move: formatted, as Luxon itself does for those names, at the fixed zero
 * offset (as IANA zones they would cost Intl calls on every request; the default tz is UTC).
 */
const ZERO_OFFSET_NAMES = new Set(["utc", "gmt"]);

function ianaZone(name: string): CanonicalZone {
  return { name, fixedOffset: ZERO_OFFSET_NAMES.has(name.toLowerCase()) ? 0 : null };
}

/** The default zone, answered without reading Intl's zone list (~8 ms the first time). */
const UTC_ZONE = ianaZone("UTC");
/** Intl's canonical zone names by lower case, read on first use rather than at start-up. */
let canonicalZoneTable: Map<string, CanonicalZone> | undefined;
function canonicalZones(): Map<string, CanonicalZone> {
  canonicalZoneTable ??= new Map(
    Intl.supportedValuesOf("timeZone").map(
      (name) => [name.toLowerCase(), name === UTC_ZONE.name ? UTC_ZONE : ianaZone(name)] as const,
    ),
  );
  return canonicalZoneTable;
}
const otherZones = new LRUCache<string, CanonicalZone>({ max: ZONE_CACHE_SIZE });

const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;
const OFFSET = /^utc([+-])(\d\d):(\d\d)$/;
/** Words Luxon would take as "this server's zone": never a client's choice. */
const SERVER_ZONE_WORDS = new Set(["system", "local", "default"]);
const ZONE_HELP =
  "use an IANA zone such as UTC, Europe/Zagreb or America/New_York, or a fixed offset UTC±HH:MM within ±14:00";

function fixedOffset(raw: string, sign: string, hours: string, minutes: string): CanonicalZone {
  const total = Number(hours) * 60 + Number(minutes);
  if (Number(minutes) % 15 !== 0 || Number(minutes) >= 60 || total > MAX_OFFSET_MINUTES) {
    throw invalid(
      "tz",
      `'${raw}' is not an offset this server accepts; fixed offsets are UTC±HH:MM within ±14:00, with minutes 00, 15, 30 or 45`,
    );
  }
  const signed = sign === "-" ? -total : total;
  const name = `UTC${signed < 0 ? "-" : "+"}${hours}:${minutes}`;
  return { name, fixedOffset: signed };
}

/** Asks the runtime's ICU: it knows links (US/Eastern, GMT) and spells them properly. */
function resolveZone(raw: string, lowerCase: string): CanonicalZone {
  const shown = `'${raw.slice(0, MAX_TZ_LENGTH)}'`;
  if (raw.length === 0 || raw.length > MAX_TZ_LENGTH) throw invalid("tz", `must be 1 to ${MAX_TZ_LENGTH} characters`);
  if (SERVER_ZONE_WORDS.has(lowerCase)) {
    throw invalid("tz", `${shown} would mean this server's own zone, which clients cannot rely on; ${ZONE_HELP}`);
  }
  const offset = OFFSET.exec(lowerCase);
  if (offset) return fixedOffset(raw, offset[1] as string, offset[2] as string, offset[3] as string);
  if (/^utc[ \d]/.test(lowerCase)) {
    throw invalid("tz", `${shown} is not a time zone; ${ZONE_HELP} (send '+' in a query string as %2B)`);
  }
  if (!ZONE_NAME.test(raw)) throw invalid("tz", `${shown} is not a time zone name; ${ZONE_HELP}`);
  let name: string;
  try {
    name = new Intl.DateTimeFormat("en-US", { timeZone: lowerCase }).resolvedOptions().timeZone;
  } catch {
    throw invalid("tz", `${shown} is not a time zone this server knows; ${ZONE_HELP}`);
  }
  // The runtime also takes bare offsets (+05:30); they have one accepted spelling, handled above.
  if (!ZONE_NAME.test(name)) throw invalid("tz", `${shown} is not a time zone name; ${ZONE_HELP}`);
  return ianaZone(name);
}

/** Case-insensitive; the canonical spelling of an IANA name, or UTC±HH:MM. Throws a 400 naming `tz`. */
export function canonicalZone(raw: string): CanonicalZone {
  if (raw === "UTC") return UTC_ZONE;
  const lowerCase = raw.toLowerCase();
  const known = canonicalZones().get(lowerCase) ?? otherZones.get(lowerCase);
  if (known) return known;
  const resolved = resolveZone(raw, lowerCase);
  otherZones.set(lowerCase, resolved);
  return resolved;
}

const locales = new LRUCache<string, string>({ max: LOCALE_CACHE_SIZE });
/**
 * language[-Script][-REGION]. Unicode extensions (-u-nu-…, -u-ca-…), variants and private-use
 * subtags are refused: every distinct locale-with-numbering-system the runtime formats with keeps
 * ~13 KiB inside ICU for good (measured: 900 MiB after 120,000 combinations), while plain tags
 * resolve to a few hundred locales.
 */
const LOCALE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?$/;
const LOCALE_HELP =
  "use language[-Script][-REGION] such as en-US, hr-HR, de, zh-Hant-TW or es-419 (extensions, variants and private-use subtags are not accepted)";

/**
 * BCP 47 is case-insensitive, so the cache is keyed by lower case. The answer is the locale the
 * runtime resolves the canonical tag to: what it formats with, and what the response reports.
 */
export function canonicalLocale(raw: string): string {
  const lowerCase = raw.toLowerCase();
  const known = locales.get(lowerCase);
  if (known) return known;
  const shown = `'${raw.slice(0, MAX_LOCALE_LENGTH)}'`;
  if (raw.length === 0 || raw.length > MAX_LOCALE_LENGTH) {
    throw invalid("locale", `must be 1 to ${MAX_LOCALE_LENGTH} characters`);
  }
  if (!LOCALE_TAG.test(raw)) {
    const hint = raw.includes("_") ? " (subtags are joined by '-', not '_')" : "";
    throw invalid("locale", `${shown} is not a locale this server accepts${hint}; ${LOCALE_HELP}`);
  }
  let canonical: string | undefined;
  try {
    [canonical] = Intl.getCanonicalLocales(raw);
  } catch {
    throw invalid("locale", `${shown} is not a BCP 47 language tag; ${LOCALE_HELP}`);
  }
  if (canonical === undefined || Intl.DateTimeFormat.supportedLocalesOf([canonical]).length === 0) {
    throw invalid("locale", `${shown} is not a locale this server can format in; ${LOCALE_HELP}`);
  }
  const resolved = new Intl.DateTimeFormat(canonical).resolvedOptions().locale;
  locales.set(lowerCase, resolved);
  return resolved;
}

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

const patterns = new LRUCache<string, { fields: number }>({ max: PATTERN_CACHE_SIZE });

/** Checks a pattern; returns how many date fields it has. Throws a 400 naming the first bad token. */
export function checkPattern(pattern: string): number {
  const known = patterns.get(pattern);
  if (known) return known.fields;
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
    throw invalid("pattern", `must be 1 to ${MAX_PATTERN_LENGTH} characters`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(pattern)) throw invalid("pattern", "must not contain control characters");
  let quoted = false;
  let fields = 0;
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
    if (!quoted && /[A-Za-z]/.test(char)) {
      if (!TOKENS.has(run)) {
        throw invalid(
          "pattern",
          `unknown date field '${run}' at position ${i + 1}; use Unicode date fields such as yyyy, MM, dd, HH, mm, ss, SSS, EEEE, MMMM, ZZ, z, and put literal text in single quotes`,
        );
      }
      fields++;
    }
    i = end;
  }
  if (quoted) throw invalid("pattern", "has an unclosed single quote");
  patterns.set(pattern, { fields });
  return fields;
}
