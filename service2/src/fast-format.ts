/**
 * Formats the common fixed patterns (`yyyy-MM-dd`, `HH:mm:ss.SSS`, `EEE, d MMM yyyy` in en-US, …)
 * in UTC or a fixed offset without Luxon, giving exactly Luxon's output: Luxon's `toFormat` cost
 * ~5 µs a request on the default path, this ~0.2 µs. It mirrors Luxon 3.7's Formatter for the
 * tokens below and declines (returns undefined) everything else, which Luxon then formats:
 * time zones with rules, locales whose digits are not Latin, localized names outside en-US, week
 * fields and the macro tokens (D, t, f, …). service2/test/fast-format.test.ts holds it to Luxon's
 * output over every pattern it takes.
 */

/** What the fast path needs to know of a locale, as Luxon decides it. */
export interface LocaleFacts {
  /** Luxon writes numbers itself (no Intl.NumberFormat) when the locale's digits are Latin. */
  latinDigits: boolean;
  /** Luxon's own English names (months, weekdays, AM/PM, eras) apply to en and en-US only. */
  english: boolean;
}

/** Luxon's reading of a locale (Locale.fastNumbers and Locale.listingMode, for tags without extensions). */
export function localeFacts(locale: string): LocaleFacts {
  const resolved = new Intl.DateTimeFormat(locale).resolvedOptions();
  return {
    latinDigits: locale.startsWith("en") || resolved.numberingSystem === "latn",
    english: locale === "en" || locale.toLowerCase() === "en-us" || resolved.locale.startsWith("en-us"),
  };
}

export type FastFormatter = (epochMs: number) => string | undefined;

/** The local date fields of one instant, read from a Date shifted by the fixed offset. */
interface Fields {
  date: Date;
  epochMs: number;
}

type Part = string | ((fields: Fields) => string);

/** Luxon's padStart: the sign goes before the zeros. */
function padStart(input: number, length: number): string {
  return input < 0 ? `-${`${-input}`.padStart(length, "0")}` : `${input}`.padStart(length, "0");
}

/** Luxon's fast number path: round to three decimals (as Intl.NumberFormat would), then pad. */
function num(value: number, length = 0): string {
  return padStart(Math.round(value * 1000) / 1000, length);
}

/** Luxon's formatOffset(offset, format), in minutes. */
function formatOffset(offset: number, format: "short" | "narrow" | "techie"): string {
  const hours = Math.trunc(Math.abs(offset / 60));
  const minutes = Math.trunc(Math.abs(offset % 60));
  const sign = offset >= 0 ? "+" : "-";
  if (format === "short") return `${sign}${padStart(hours, 2)}:${padStart(minutes, 2)}`;
  if (format === "narrow") return `${sign}${hours}${minutes > 0 ? `:${minutes}` : ""}`;
  return `${sign}${padStart(hours, 2)}${padStart(minutes, 2)}`;
}

/** Luxon's FixedOffsetZone name: UTC, or UTC+5:30. */
function fixedZoneName(offset: number): string {
  return offset === 0 ? "UTC" : `UTC${formatOffset(offset, "narrow")}`;
}

const MONTHS_LONG = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const MONTHS_SHORT = MONTHS_LONG.map((month) => month.slice(0, 3));
const MONTHS_NARROW = MONTHS_LONG.map((month) => month.slice(0, 1));
const WEEKDAYS_LONG = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const WEEKDAYS_SHORT = WEEKDAYS_LONG.map((day) => day.slice(0, 3));
const WEEKDAYS_NARROW = WEEKDAYS_LONG.map((day) => day.slice(0, 1));
const ERAS = { short: ["BC", "AD"], long: ["Before Christ", "Anno Domini"], narrow: ["B", "A"] } as const;
const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

const year = ({ date }: Fields) => date.getUTCFullYear();
const month = ({ date }: Fields) => date.getUTCMonth() + 1;
const day = ({ date }: Fields) => date.getUTCDate();
const hour = ({ date }: Fields) => date.getUTCHours();
const hour12 = (fields: Fields) => (hour(fields) % 12 === 0 ? 12 : hour(fields) % 12);
const minute = ({ date }: Fields) => date.getUTCMinutes();
const second = ({ date }: Fields) => date.getUTCSeconds();
const millisecond = ({ date }: Fields) => date.getUTCMilliseconds();
/**
 * ISO weekday, Monday 1 to Sunday 7, as Luxon computes it (dayOfWeek, luxon/src/impl/conversions.js):
 * years 0–99 go through 1900–1999 there, so 0000-02-29 (1900 has none) is named as 0000-03-01.
 */
const weekday = (fields: Fields) => {
  const y = year(fields);
  if (y < 0 || y >= 100) return fields.date.getUTCDay() || 7;
  const asLuxon = new Date(Date.UTC(y, month(fields) - 1, day(fields)));
  asLuxon.setUTCFullYear(asLuxon.getUTCFullYear() - 1900);
  return asLuxon.getUTCDay() || 7;
};
function isLeapYear(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}
const ordinal = (fields: Fields) => {
  const m = month(fields);
  return day(fields) + (DAYS_BEFORE_MONTH[m - 1] as number) + (m > 2 && isLeapYear(year(fields)) ? 1 : 0);
};

/** Tokens whose output is the same in every locale with Latin digits. */
const NUMERIC: Record<string, (fields: Fields) => string> = {
  S: (f) => num(millisecond(f)),
  u: (f) => num(millisecond(f), 3),
  SSS: (f) => num(millisecond(f), 3),
  uu: (f) => num(Math.floor(millisecond(f) / 10), 2),
  uuu: (f) => num(Math.floor(millisecond(f) / 100)),
  s: (f) => num(second(f)),
  ss: (f) => num(second(f), 2),
  m: (f) => num(minute(f)),
  mm: (f) => num(minute(f), 2),
  h: (f) => num(hour12(f)),
  hh: (f) => num(hour12(f), 2),
  H: (f) => num(hour(f)),
  HH: (f) => num(hour(f), 2),
  d: (f) => num(day(f)),
  dd: (f) => num(day(f), 2),
  c: (f) => num(weekday(f)),
  E: (f) => num(weekday(f)),
  L: (f) => num(month(f)),
  LL: (f) => num(month(f), 2),
  M: (f) => num(month(f)),
  MM: (f) => num(month(f), 2),
  y: (f) => num(year(f)),
  yy: (f) => num(Number(year(f).toString().slice(-2)), 2),
  yyyy: (f) => num(year(f), 4),
  yyyyyy: (f) => num(year(f), 6),
  o: (f) => num(ordinal(f)),
  ooo: (f) => num(ordinal(f), 3),
  q: (f) => num(Math.ceil(month(f) / 3)),
  qq: (f) => num(Math.ceil(month(f) / 3), 2),
  X: (f) => num(Math.floor(f.epochMs / 1000)),
  x: (f) => num(f.epochMs),
};

/** Luxon's English names, used by Luxon itself (not Intl) for en and en-US. */
const ENGLISH: Record<string, (fields: Fields) => string> = {
  a: (f) => (hour(f) < 12 ? "AM" : "PM"),
  ccc: (f) => WEEKDAYS_SHORT[weekday(f) - 1] as string,
  cccc: (f) => WEEKDAYS_LONG[weekday(f) - 1] as string,
  ccccc: (f) => WEEKDAYS_NARROW[weekday(f) - 1] as string,
  EEE: (f) => WEEKDAYS_SHORT[weekday(f) - 1] as string,
  EEEE: (f) => WEEKDAYS_LONG[weekday(f) - 1] as string,
  EEEEE: (f) => WEEKDAYS_NARROW[weekday(f) - 1] as string,
  LLL: (f) => MONTHS_SHORT[month(f) - 1] as string,
  LLLL: (f) => MONTHS_LONG[month(f) - 1] as string,
  LLLLL: (f) => MONTHS_NARROW[month(f) - 1] as string,
  MMM: (f) => MONTHS_SHORT[month(f) - 1] as string,
  MMMM: (f) => MONTHS_LONG[month(f) - 1] as string,
  MMMMM: (f) => MONTHS_NARROW[month(f) - 1] as string,
  G: (f) => ERAS.short[year(f) < 0 ? 0 : 1] as string,
  GG: (f) => ERAS.long[year(f) < 0 ? 0 : 1] as string,
  GGGGG: (f) => ERAS.narrow[year(f) < 0 ? 0 : 1] as string,
};

/** Tokens Luxon reads from the zone; for a fixed offset they never change. */
function zoneToken(token: string, offset: number): string | undefined {
  switch (token) {
    case "Z":
      return formatOffset(offset, "narrow");
    case "ZZ":
      return formatOffset(offset, "short");
    case "ZZZ":
      return formatOffset(offset, "techie");
    case "ZZZZ":
    case "ZZZZZ":
    case "z":
      return fixedZoneName(offset);
    default:
      return undefined;
  }
}

/** Luxon's Formatter.parseFormat: runs of one character, quoted text and whitespace as literals. */
export function splitPattern(pattern: string): { literal: boolean; value: string }[] {
  let current: string | null = null;
  let run = "";
  let quoted = false;
  const parts: { literal: boolean; value: string }[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern.charAt(i);
    if (char === "'") {
      if (run.length > 0 || quoted) parts.push({ literal: quoted || /^\s+$/.test(run), value: run === "" ? "'" : run });
      current = null;
      run = "";
      quoted = !quoted;
    } else if (quoted || char === current) {
      run += char;
    } else {
      if (run.length > 0) parts.push({ literal: /^\s+$/.test(run), value: run });
      run = char;
      current = char;
    }
  }
  if (run.length > 0) parts.push({ literal: quoted || /^\s+$/.test(run), value: run });
  return parts;
}

/** Dates (and Luxon's fields) exist within ±8.64e15 ms of the epoch; a shifted instant past it is Luxon's to handle. */
const MAX_DATE_MS = 8.64e15;

/**
 * A formatter for the pattern in a fixed zone (offset in minutes), or undefined when Luxon must
 * format it (a zone with rules, a token outside the fast set, digits or names Luxon takes from Intl).
 */
export function compileFastFormat(
  pattern: string,
  offsetMinutes: number | null,
  locale: LocaleFacts,
): FastFormatter | undefined {
  if (offsetMinutes === null || !locale.latinDigits) return undefined;
  const parts: Part[] = [];
  for (const { literal, value } of splitPattern(pattern)) {
    if (literal) {
      parts.push(value);
      continue;
    }
    const field = NUMERIC[value] ?? (locale.english ? ENGLISH[value] : undefined);
    if (field) {
      parts.push(field);
      continue;
    }
    const zone = zoneToken(value, offsetMinutes);
    if (zone !== undefined) {
      parts.push(zone);
      continue;
    }
    // Any other letters are Luxon's: names from Intl, week fields, the localized macros (D, t, f, …).
    if (/[A-Za-z]/.test(value)) return undefined;
    // Anything else (-, :, /, …) Luxon prints as it is.
    parts.push(value);
  }
  const shift = offsetMinutes * 60_000;
  return (epochMs) => {
    const local = epochMs + shift;
    if (!(Math.abs(local) <= MAX_DATE_MS)) return undefined;
    const fields: Fields = { date: new Date(local), epochMs };
    let text = "";
    for (const part of parts) text += typeof part === "string" ? part : part(fields);
    return text;
  };
}
