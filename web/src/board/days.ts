// The board's day filter (SPEC §12): "today", "tomorrow" and "this week" are
// days on the studio's calendar, the clock every session time is shown on.
// A week runs Monday to Sunday, as Turkish (and ISO) calendars have it.
import { utcToZoned, zonedToUtc } from '../time/zone';

export const DAYS = ['any', 'today', 'tomorrow', 'week'] as const;
export type Day = (typeof DAYS)[number];

/** Instants (ms) from `from` (inclusive) to `to` (exclusive). */
export interface Span {
  from: number;
  to: number;
}

/** The calendar date `days` after "YYYY-MM-DD". */
function plusDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** The span `day` names on `zone`'s calendar as of `now`; null for any day. */
export function daySpan(day: Day, now: number, zone: string): Span | null {
  if (day === 'any') return null;
  const today = utcToZoned(now, zone).slice(0, 10);
  // Midnight of a date on the zone's clock (DST-correct; a skipped midnight is the first instant after it).
  const midnight = (days: number) => zonedToUtc(`${plusDays(today, days)}T00:00`, zone);
  switch (day) {
    case 'today':
      return { from: midnight(0), to: midnight(1) };
    case 'tomorrow':
      return { from: midnight(1), to: midnight(2) };
    case 'week': {
      const monday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7; // days since Monday
      return { from: midnight(0), to: midnight(7 - monday) };
    }
  }
}

/**
 * The smallest span holding `day`'s span in each of `zones` (the API's filter
 * over several studios); null when no zone is known (the API is then not
 * narrowed, and each item is checked on its own studio's calendar).
 */
export function spanOver(day: Day, now: number, zones: readonly string[]): Span | null {
  const spans = zones.map((zone) => daySpan(day, now, zone));
  if (spans.length === 0 || spans.some((span) => span === null)) return null;
  const all = spans as Span[];
  return { from: Math.min(...all.map((s) => s.from)), to: Math.max(...all.map((s) => s.to)) };
}

export const within = (span: Span | null, at: number): boolean => span === null || (at >= span.from && at < span.to);
