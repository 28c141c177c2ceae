// The dashboard's arithmetic: which days it shows first, how a ratio reads,
// and how tall each day's revenue bar is. Money stays in cents.
import { toCents, type Cents } from '../domain/money';
import { utcToZoned } from '../time/zone';

/** A range of the studio's days, both ends included ("2026-03-23".."2026-03-29"). */
export interface DayRange {
  from: string;
  to: string;
}

const DAY = 86_400_000;

/** `date` ("YYYY-MM-DD") moved by `days`, on the calendar (no zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d) + days * DAY).toISOString().slice(0, 10);
}

/** The week (Monday to Sunday) that instant `now` falls in on the studio's clock. */
export function thisWeek(now: number, zone: string): DayRange {
  const today = utcToZoned(now, zone).slice(0, 10);
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  const sinceMonday = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
  const from = addDays(today, -sinceMonday);
  return { from, to: addDays(from, 6) };
}

const percents = new Map<string, Intl.NumberFormat>();

/** A ratio from the API ("0.4567", 0–1) as a percentage in `locale` ("45.7%", "%45,7"); null (nothing to divide) as "—". */
export function formatRatio(ratio: string | null, locale: string): string {
  if (ratio === null) return '—';
  let formatter = percents.get(locale);
  if (!formatter) {
    formatter = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
    percents.set(locale, formatter);
  }
  return formatter.format(Number(ratio));
}

export interface Bar {
  date: string;
  cents: Cents;
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * One bar per day in a `width`×`height` box: the best day fills the height,
 * the others in proportion; a gap of a fifth of a slot between bars. A day
 * with revenue but tiny next to the best still shows a sliver (1 unit).
 */
export function revenueBars(days: readonly { date: string; revenue: string }[], width: number, height: number): Bar[] {
  if (days.length === 0) return [];
  const cents = days.map((d) => toCents(d.revenue));
  const most = Math.max(...cents);
  const slot = width / days.length;
  const gap = slot / 5;
  return days.map((day, i) => {
    const c = cents[i]!;
    const h = most === 0 || c === 0 ? 0 : Math.max(1, (c / most) * height);
    return { date: day.date, cents: c, x: i * slot + gap / 2, y: height - h, width: slot - gap, height: h };
  });
}
