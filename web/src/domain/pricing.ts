// The auction's price schedule (SPEC §3), the same pure function the server
// runs, in integer cents and epoch milliseconds. The server's `current_price`
// and `next_change_at` stay the authority; this carries the display from one
// step to the next without asking the server (see `livePrice`).
import { toCents, type Cents } from './money';

const MINUTE = 60_000;

export interface Schedule {
  start: Cents;
  floor: Cents;
  drop: Cents;
  interval: number;
  startsAt: number;
  endsAt: number;
  turbo: { start: number; drop: Cents; interval: number } | null;
}

export interface AuctionTerms {
  start_price: string;
  floor_price: string;
  drop_amount: string;
  drop_interval_minutes: number;
  starts_at: string;
  ends_at: string;
  turbo?: { trigger_before_minutes: number; drop_amount: string; interval_minutes: number } | null;
  turbo_started_at?: string | null;
}

export function scheduleOf(terms: AuctionTerms): Schedule {
  const startsAt = Date.parse(terms.starts_at);
  const endsAt = Date.parse(terms.ends_at);
  let turbo: Schedule['turbo'] = null;
  if (terms.turbo) {
    const automatic = endsAt - terms.turbo.trigger_before_minutes * MINUTE;
    const early = terms.turbo_started_at ? Date.parse(terms.turbo_started_at) : Infinity;
    turbo = {
      // Turbo never starts before the auction does: an earlier trigger counts from `starts_at`.
      start: Math.max(startsAt, Math.min(automatic, early)),
      drop: toCents(terms.turbo.drop_amount),
      interval: terms.turbo.interval_minutes * MINUTE,
    };
  }
  return {
    start: toCents(terms.start_price),
    floor: toCents(terms.floor_price),
    drop: toCents(terms.drop_amount),
    interval: terms.drop_interval_minutes * MINUTE,
    startsAt,
    endsAt,
    turbo,
  };
}

/**
 * How many steps of `interval` from `origin` have passed by `t`. Only steps
 * strictly before `endsAt` count: from `ends_at` on, the price is frozen.
 */
function stepsBy(origin: number, interval: number, t: number, endsAt: number): number {
  if (t >= endsAt) return endsAt <= origin ? 0 : Math.ceil((endsAt - origin) / interval) - 1;
  return t < origin ? 0 : Math.floor((t - origin) / interval);
}

/** The price at `t`; from `ends_at` on, the last price before `ends_at` (SPEC §3). */
export function priceAt(s: Schedule, t: number): Cents {
  if (t < s.startsAt) return s.start;
  let price = s.start - s.drop * stepsBy(s.startsAt, s.interval, t, s.endsAt);
  if (s.turbo) price -= s.turbo.drop * stepsBy(s.turbo.start, s.turbo.interval, t, s.endsAt);
  return Math.max(s.floor, price);
}

/** The first instant after `t` at which the price changes; null at the floor or when no step is left before `ends_at`. */
export function nextChangeAt(s: Schedule, t: number): number | null {
  if (priceAt(s, t) <= s.floor) return null;
  let next = boundaryAfter(s.startsAt, s.interval, t);
  if (s.turbo) next = Math.min(next, boundaryAfter(s.turbo.start, s.turbo.interval, t));
  return next >= s.endsAt ? null : next;
}

/** The first `origin + k * step` (k ≥ 1) after `t`. */
function boundaryAfter(origin: number, step: number, t: number): number {
  return t < origin ? origin + step : origin + (Math.floor((t - origin) / step) + 1) * step;
}

/** Every step from `starts_at` to the floor or `ends_at`: the curve a chart draws. */
export function steps(s: Schedule, limit = 1000): { at: number; price: Cents }[] {
  const out = [{ at: s.startsAt, price: s.start }];
  let at: number | null = s.startsAt;
  while (out.length < limit && (at = nextChangeAt(s, at)) !== null) out.push({ at, price: priceAt(s, at) });
  return out;
}

export interface PriceSnapshot {
  status: string;
  current_price: string;
  next_change_at?: string | null;
}

/**
 * The price to show at server time `now`: the server's own until its
 * `next_change_at`, then the schedule's, until the next frame says otherwise.
 * Outside ACTIVE/HELD/DRAFT the price does not move (SOLD keeps the sale price).
 */
export function livePrice(snapshot: PriceSnapshot, schedule: Schedule, now: number): { price: Cents; nextAt: number | null } {
  const moving = snapshot.status === 'ACTIVE' || snapshot.status === 'HELD' || snapshot.status === 'DRAFT';
  if (!moving) return { price: toCents(snapshot.current_price), nextAt: null };
  const serverNext = snapshot.next_change_at ? Date.parse(snapshot.next_change_at) : null;
  if (serverNext !== null && now < serverNext) return { price: toCents(snapshot.current_price), nextAt: serverNext };
  if (serverNext === null) return { price: toCents(snapshot.current_price), nextAt: null };
  return { price: priceAt(schedule, now), nextAt: nextChangeAt(schedule, now) };
}
