import { HttpError } from "@timekit/runtime";
import { LRUCache } from "lru-cache";
import type { Zone } from "luxon";
import { compileFastFormat, type FastFormatter, type LocaleFacts, localeFacts } from "./fast-format";
import { type CanonicalZone, canonicalLocale, canonicalZone, checkPattern, invalid, LOCALE_CACHE_SIZE } from "./inputs";

export {
  LOCALE_CACHE_SIZE,
  MAX_LOCALE_LENGTH,
  MAX_PATTERN_LENGTH,
  MAX_TZ_LENGTH,
  PATTERN_CACHE_SIZE,
  ZONE_CACHE_SIZE,
} from "./inputs";

export const DEFAULT_PATTERN = "yyyy-MM-dd";
export const DEFAULT_TZ = "UTC";
export const DEFAULT_LOCALE = "en-US";
export const MAX_ISO_LENGTH = 64;
/** JavaScript dates (and Luxon) cover ±8.64e15 ms around the epoch. */
export const MAX_EPOCH_MS = 8_640_000_000_000_000;
export const MAX_EPOCH = MAX_EPOCH_MS / 1000;
/** Checked (pattern, tz, locale) requests as clients spell them, so a repeated request costs one lookup. */
export const PLAN_CACHE_SIZE = 1024;
/**
 * Luxon keeps the Intl formatters it builds (~30 KiB each) in module-level maps keyed by locale,
 * zone and options, which never shrink. Each new canonical (pattern, zone, locale) may add up to
 * one formatter per date field plus two; once this many could have been added, Luxon's caches are
 * dropped and rebuilt on demand. That bounds them to about 7.5 MiB.
 */
export const INTL_FORMATTER_BUDGET = 256;

type Luxon = typeof import("luxon");
let loadedLuxon: Luxon | undefined;

/**
 * Luxon, loaded the first time a request needs it (a zone with rules, a localized name, an ISO
 * string to read): the default format and other fixed patterns never do, and start-up skips it.
 */
function luxon(): Luxon {
  loadedLuxon ??= require("luxon") as Luxon;
  return loadedLuxon;
}

/** Whether Luxon has been loaded yet (tests check that the fast path leaves it unloaded). */
export function luxonLoaded(): boolean {
  return loadedLuxon !== undefined;
}

/** Luxon's zone object for a canonical zone, made once per zone. */
const luxonZones = new WeakMap<CanonicalZone, Zone>();
function luxonZone(zone: CanonicalZone): Zone {
  let made = luxonZones.get(zone);
  if (!made) {
    const { FixedOffsetZone, IANAZone } = luxon();
    made = zone.fixedOffset === null ? IANAZone.create(zone.name) : FixedOffsetZone.instance(zone.fixedOffset);
    luxonZones.set(zone, made);
  }
  return made;
}

/** Counts what Luxon may have cached since its caches were last dropped. */
class LuxonCacheBudget {
  generation = 0;
  private used = 0;
  private readonly admitted = new Set<string>();

  constructor(private readonly limit: number) {}

  admit(plan: Plan): void {
    if (plan.generation === this.generation) return;
    if (!this.admitted.has(plan.key)) {
      if (this.used + plan.cost > this.limit) {
        luxon().Settings.resetCaches();
        this.admitted.clear();
        this.used = 0;
        this.generation++;
      }
      this.admitted.add(plan.key);
      this.used += plan.cost;
    }
    plan.generation = this.generation;
  }
}

interface Plan {
  pattern: string;
  zone: CanonicalZone;
  locale: string;
  /** The canonical (pattern, zone, locale): one entry in the budget however it was spelled. */
  key: string;
  cost: number;
  generation: number;
  /** Formats without Luxon when the pattern, zone and locale allow it (fast-format.ts). */
  fast: FastFormatter | undefined;
}

const budget = new LuxonCacheBudget(INTL_FORMATTER_BUDGET);
/** What the fast path needs of each resolved locale, asked of Intl once. */
const facts = new LRUCache<string, LocaleFacts>({ max: LOCALE_CACHE_SIZE });
function factsOf(locale: string): LocaleFacts {
  let known = facts.get(locale);
  if (!known) {
    known = localeFacts(locale);
    facts.set(locale, known);
  }
  return known;
}
const plans = new LRUCache<string, Plan>({ max: PLAN_CACHE_SIZE });

function planFor(pattern: string, tz: string, locale: string): Plan {
  const spelled = `${pattern}\u0000${tz}\u0000${locale}`;
  const cached = plans.get(spelled);
  if (cached) return cached;
  const fields = checkPattern(pattern);
  const zone = canonicalZone(tz);
  const resolvedLocale = canonicalLocale(locale);
  const plan: Plan = {
    pattern,
    zone,
    locale: resolvedLocale,
    key: `${pattern}\u0000${zone.name}\u0000${resolvedLocale}`,
    cost: fields + 2,
    generation: -1,
    fast: compileFastFormat(pattern, zone.fixedOffset, factsOf(resolvedLocale)),
  };
  plans.set(spelled, plan);
  return plan;
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

/**
 * Checks every input, then formats; callers get a 400 naming the field, never a 500. The answer
 * reports the zone and locale as formatted: the canonical zone name and the resolved locale.
 */
export function format({ epochMs, pattern, tz, locale }: FormatRequest): Formatted {
  const plan = planFor(pattern, tz, locale);
  if (!Number.isSafeInteger(epochMs) || Math.abs(epochMs) > MAX_EPOCH_MS) {
    throw invalid("epochMs", `must be an integer within ±${MAX_EPOCH_MS}`);
  }
  let formatted = plan.fast?.(epochMs);
  if (formatted === undefined) {
    budget.admit(plan);
    formatted = luxon()
      .DateTime.fromMillis(epochMs, { zone: luxonZone(plan.zone), locale: plan.locale })
      .toFormat(plan.pattern);
  }
  return { formatted, epochMs, pattern: plan.pattern, tz: plan.zone.name, locale: plan.locale };
}

/** How often Luxon's caches were dropped to stay within INTL_FORMATTER_BUDGET (for metrics and tests). */
export function luxonCacheResets(): number {
  return budget.generation;
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
  const parsed = iso.length <= MAX_ISO_LENGTH ? luxon().DateTime.fromISO(iso, { zone: "utc" }) : undefined;
  if (!parsed?.isValid) {
    throw invalid(
      "iso",
      `'${iso.slice(0, MAX_ISO_LENGTH)}' is not an ISO-8601 date-time (e.g. 2025-10-28T14:10:34Z); no offset means UTC`,
    );
  }
  return parsed.toMillis();
}
