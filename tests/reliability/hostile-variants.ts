/**
 * Inputs an attacker uses to grow a formatter's caches: every request names the "same" zone and
 * locale in a spelling never seen before, or a valid combination never seen before.
 */

const LONG_ZONE = "America/Argentina/ComodRivadavia";
const ZONES = Intl.supportedValuesOf("timeZone");
const REGIONS = ["US", "GB", "DE", "FR", "IN", "CN", "BR", "RU", "JP", "EG", "MX", "ZA", "HR", "AU", "419", "001"];
/** Every two-letter language the runtime formats in, with and without a region: a few thousand tags. */
const LOCALES = (() => {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const languages = Intl.DateTimeFormat.supportedLocalesOf(
    [...letters].flatMap((first) => [...letters].map((second) => first + second)),
  );
  return languages.flatMap((language) => [language, ...REGIONS.map((region) => `${language}-${region}`)]);
})();

/** The n-th upper/lower-case spelling of `text` (bit k of n picks the case of its k-th letter). */
export function caseVariant(text: string, n: number): string {
  let out = "";
  let bit = 0;
  for (const char of text) {
    if (/[a-z]/i.test(char)) {
      out += Math.floor(n / 2 ** bit) % 2 === 1 ? char.toUpperCase() : char.toLowerCase();
      bit++;
    } else out += char;
  }
  return out;
}

/** Eight letters that differ for every n: a private-use subtag (`en-x-<this>`). */
export function privateUseTag(n: number): string {
  return n
    .toString(26)
    .padStart(8, "0")
    .replace(/[0-9a-p]/g, (digit) => String.fromCharCode(97 + Number.parseInt(digit, 26)));
}

export interface HostileOptions {
  tz: string;
  locale: string;
  /** What a correct server answers: 400 for the tags it refuses, 200 for the rest. */
  expectedStatus: 200 | 400;
}

/**
 * Three kinds, in turn: a case variant of one long zone name with a case variant of a locale; a
 * private-use locale tag (refused); and a valid (zone, locale) combination never sent before.
 */
export function hostileOptions(n: number): HostileOptions {
  switch (n % 3) {
    case 0:
      return { tz: caseVariant(LONG_ZONE, n), locale: caseVariant("zh-Hant-TW", n), expectedStatus: 200 };
    case 1:
      return { tz: caseVariant("Europe/Zagreb", n), locale: `en-x-${privateUseTag(n)}`, expectedStatus: 400 };
    default:
      return {
        tz: ZONES[Math.floor(n / 3) % ZONES.length] as string,
        locale: LOCALES[Math.floor(n / 3) % LOCALES.length] as string,
        expectedStatus: 200,
      };
  }
}

/** Half GET (with a call to service1), half POST (without), each with its own hostile options. */
export function hostileRequest(baseUrl: string, n: number): Request {
  const { tz, locale } = hostileOptions(n);
  const pattern = "EEEE d MMMM yyyy HH:mm z";
  if (n % 2 === 0) {
    return new Request(`${baseUrl}/v1/format?${new URLSearchParams({ tz, locale, pattern })}`);
  }
  return new Request(`${baseUrl}/v1/format`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ epochMs: 1_761_660_634_000 + n, pattern, tz, locale }),
  });
}

export interface FloodResult {
  sent: number;
  statuses: Record<number, number>;
  /** Answers whose status was not the one a correct server gives (see HostileOptions). */
  unexpected: number;
}

/** Sends `count` hostile requests over `concurrency` keep-alive clients. */
export async function flood(baseUrl: string, count: number, concurrency = 32, start = 0): Promise<FloodResult> {
  const statuses: Record<number, number> = {};
  let unexpected = 0;
  let next = start;
  const end = start + count;
  const client = async () => {
    while (next < end) {
      const n = next++;
      const response = await fetch(hostileRequest(baseUrl, n));
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.status !== hostileOptions(n).expectedStatus) unexpected++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return { sent: count, statuses, unexpected };
}
