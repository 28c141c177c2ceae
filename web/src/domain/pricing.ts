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
  const endsAt = Date.parse(terms.ends_at);
  let turbo: Schedule['turbo'] = null;
  if (terms.turbo) {
    const automatic = endsAt - terms.turbo.trigger_before_minutes * MINUTE;
    const early = terms.turbo_started_at ? Date.parse(terms.turbo_started_at) : Infinity;
    turbo = {
      start: Math.min(automatic, early),
      drop: toCents(terms.turbo.drop_amount),
      interval: terms.turbo.interval_minutes * MINUTE,
    };
  }
  return {
    start: toCents(terms.start_price),
    floor: toCents(terms.floor_price),
    drop: toCents(terms.drop_amount),
    interval: terms.drop_interval_minutes * MINUTE,
    startsAt: Date.parse(terms.starts_at),
    endsAt,
    turbo,
  };
}

export function priceAt(s: Schedule, t: number): Cents {
  if (t < s.startsAt) return s.start;
  let price = s.start - s.drop * Math.floor((t - s.startsAt) / s.interval);
  if (s.turbo && t >= s.turbo.start) {
    price -= s.turbo.drop * Math.floor((t - s.turbo.start) / s.turbo.interval);
  }
  return Math.max(s.floor, price);
}

/** The first instant after `t` at which the price changes; null at the floor or from `ends_at` on. */
export function nextChangeAt(s: Schedule, t: number): number | null {
  const now = priceAt(s, t);
  if (now <= s.floor) return null;
  let at = t;
  for (let i = 0; i < 1000; i++) {
    at = nextBoundary(s, at);
    if (at >= s.endsAt) return null;
    if (priceAt(s, at) !== now) return at;
  }
  return null;
}

function nextBoundary(s: Schedule, t: number): number {
  const after = (origin: number, step: number) =>
    t < origin ? origin + step : origin + (Math.floor((t - origin) / step) + 1) * step;
  let next = after(s.startsAt, s.interval);
  if (s.turbo) next = Math.min(next, after(s.turbo.start, s.turbo.interval));
  return next;
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
