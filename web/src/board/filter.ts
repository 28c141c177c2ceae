// What the board shows (SPEC §12): upcoming auctions (not ended) and events
// (not started, on sale), narrowed by day, studio and kind. The filter lives
// in the URL (`/?day=today&studio=2&kind=events`), so a reload or a shared
// link keeps it.
import type { LocationQuery, LocationQueryRaw, LocationQueryValue } from 'vue-router';
import type { Auction, EventItem } from '../api/types';
import { DAYS, daySpan, within, type Day } from './days';

export const KINDS = ['all', 'auctions', 'events'] as const;
export type Kind = (typeof KINDS)[number];

export interface BoardFilter {
  day: Day;
  /** A studio's id, or null for every studio. */
  studio: number | null;
  kind: Kind;
}

const one = (value: LocationQueryValue | LocationQueryValue[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? null;

/** The filter a URL asks for; anything unknown reads as its default. */
export function filterOf(query: LocationQuery): BoardFilter {
  const day = one(query.day);
  const kind = one(query.kind);
  const studio = Number(one(query.studio));
  return {
    day: (DAYS as readonly string[]).includes(day ?? '') ? (day as Day) : 'any',
    studio: Number.isSafeInteger(studio) && studio > 0 ? studio : null,
    kind: (KINDS as readonly string[]).includes(kind ?? '') ? (kind as Kind) : 'all',
  };
}

/** The URL query of a filter (defaults left out). */
export function queryOf(filter: BoardFilter): LocationQueryRaw {
  const query: LocationQueryRaw = {};
  if (filter.day !== 'any') query.day = filter.day;
  if (filter.studio !== null) query.studio = String(filter.studio);
  if (filter.kind !== 'all') query.kind = filter.kind;
  return query;
}

/** Auctions on the board: not ended yet. */
const OPEN: readonly string[] = ['ACTIVE', 'HELD', 'DRAFT'];

/** Whether the board shows `auction` as of `now`: open, of the studio, its session on the day (its studio's calendar). */
export function showsAuction(filter: BoardFilter, auction: Auction, now: number): boolean {
  return (
    filter.kind !== 'events' &&
    OPEN.includes(auction.status) &&
    (filter.studio === null || auction.studio_id === filter.studio) &&
    within(daySpan(filter.day, now, auction.studio.timezone), Date.parse(auction.scheduled_at))
  );
}

/** Whether the board shows `event` as of `now`: on sale, not started, of the studio, on the day (its studio's calendar). */
export function showsEvent(filter: BoardFilter, event: EventItem, now: number): boolean {
  const starts = Date.parse(event.starts_at);
  return (
    filter.kind !== 'auctions' &&
    event.is_active &&
    starts >= now &&
    (filter.studio === null || event.studio_id === filter.studio) &&
    within(daySpan(filter.day, now, event.studio.timezone), starts)
  );
}

/** Running auctions first (on sale, then held), then those that open later; each soonest ending first. */
export function auctionOrder(a: Auction, b: Auction): number {
  return OPEN.indexOf(a.status) - OPEN.indexOf(b.status) || a.ends_at.localeCompare(b.ends_at) || a.id - b.id;
}

/** Soonest first, as the API lists them. */
export function eventOrder(a: EventItem, b: EventItem): number {
  return Date.parse(a.starts_at) - Date.parse(b.starts_at) || a.id - b.id;
}
