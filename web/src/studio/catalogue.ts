// The studio's catalogue (SPEC §12 "Studio operations"): its auctions and
// events, inactive and past ones too, narrowed by kind, status and time. The
// filter lives in the URL (`/studio?kind=events&status=inactive&when=past`),
// so a reload or a shared link keeps it.
import { computed, ref, shallowRef, type Ref } from 'vue';
import type { LocationQuery, LocationQueryRaw, LocationQueryValue } from 'vue-router';
import type { Auction, AuctionStatus, EventItem } from '../api/types';
import { AUCTION_STATUSES } from '../domain/words';

export const KINDS = ['all', 'auctions', 'events'] as const;
export type Kind = (typeof KINDS)[number];

/** An event is on sale or taken off it (`is_active`). */
export const EVENT_STATES = ['active', 'inactive'] as const;
export type EventState = (typeof EVENT_STATES)[number];

/** Any status, an auction's status, or an event's state. */
export type StatusChoice = 'any' | AuctionStatus | EventState;

/** Sessions still to come or under way, sessions over, or both. */
export const WHENS = ['upcoming', 'past', 'all'] as const;
export type When = (typeof WHENS)[number];

export interface CatalogueFilter {
  kind: Kind;
  status: StatusChoice;
  when: When;
}

const one = (value: LocationQueryValue | LocationQueryValue[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? '';
const isAuctionStatus = (s: string): s is AuctionStatus => (AUCTION_STATUSES as readonly string[]).includes(s);
const isEventState = (s: string): s is EventState => (EVENT_STATES as readonly string[]).includes(s);

/** The statuses that go with `kind`: an auction's with auctions, an event's with events, both with all. */
export function statusesFor(kind: Kind): { auctions: AuctionStatus[]; events: EventState[] } {
  return {
    auctions: kind === 'events' ? [] : [...AUCTION_STATUSES],
    events: kind === 'auctions' ? [] : [...EVENT_STATES],
  };
}

/** The filter a URL asks for; anything unknown, or a status that does not go with the kind, reads as its default. */
export function filterOf(query: LocationQuery): CatalogueFilter {
  const kind = one(query.kind);
  const when = one(query.when);
  const status = one(query.status);
  const k: Kind = (KINDS as readonly string[]).includes(kind) ? (kind as Kind) : 'all';
  const fits = statusesFor(k);
  const s: StatusChoice =
    (isAuctionStatus(status) && fits.auctions.includes(status)) || (isEventState(status) && fits.events.includes(status)) ? status : 'any';
  return { kind: k, status: s, when: (WHENS as readonly string[]).includes(when) ? (when as When) : 'upcoming' };
}

/** The URL query of a filter (defaults left out). */
export function queryOf(filter: CatalogueFilter): LocationQueryRaw {
  const query: LocationQueryRaw = {};
  if (filter.kind !== 'all') query.kind = filter.kind;
  if (filter.status !== 'any') query.status = filter.status;
  if (filter.when !== 'upcoming') query.when = filter.when;
  return query;
}

/** Whether the filter lists auctions (an event's state leaves them out) and with which status. */
export function auctionsWanted(filter: CatalogueFilter): { status: AuctionStatus | undefined } | null {
  if (filter.kind === 'events' || isEventState(filter.status)) return null;
  return { status: filter.status === 'any' ? undefined : filter.status };
}

/** Whether the filter lists events (an auction's status leaves them out) and which: `is_active` as the API takes it. */
export function eventsWanted(filter: CatalogueFilter): { is_active: 'true' | 'false' | 'all' } | null {
  if (filter.kind === 'auctions' || isAuctionStatus(filter.status)) return null;
  return { is_active: filter.status === 'active' ? 'true' : filter.status === 'inactive' ? 'false' : 'all' };
}

/** When an auction's session ends (ms): `scheduled_at` plus its length. */
export const auctionSessionEnd = (a: Pick<Auction, 'scheduled_at' | 'session_minutes'>) =>
  Date.parse(a.scheduled_at) + a.session_minutes * 60_000;

/** Whether an item's session is over at `now` (ms); an item under way is not. */
export function isPast(item: Auction | EventItem, now: number): boolean {
  const end = 'scheduled_at' in item ? auctionSessionEnd(item) : Date.parse(item.ends_at);
  return end <= now;
}

/** Whether the filter's time choice keeps `item` at `now`. */
export function keepsWhen(when: When, item: Auction | EventItem, now: number): boolean {
  return when === 'all' || (when === 'past') === isPast(item, now);
}

export interface ApiPage<T> {
  items: T[];
  next_cursor: string | null;
}

/**
 * Pages through a list from `cursor` (undefined: the first page), keeping what
 * `keep` keeps, until `want` are kept, the list ends, or `maxPages` were read
 * (the API cannot narrow auctions by time, so a page may keep none).
 * `cursor` in the answer is where to go on from, null at the end.
 */
export async function fillPage<T>(
  fetch: (cursor: string | undefined) => Promise<ApiPage<T>>,
  keep: (item: T) => boolean,
  cursor: string | undefined,
  want: number,
  maxPages = 10,
): Promise<{ items: T[]; cursor: string | null }> {
  const items: T[] = [];
  let next: string | undefined = cursor;
  for (let pages = 0; pages < maxPages; pages++) {
    const page = await fetch(next);
    items.push(...page.items.filter(keep));
    next = page.next_cursor ?? undefined;
    if (!next || items.length >= want) break;
  }
  return { items, cursor: next ?? null };
}

/**
 * One list of the catalogue, paged by "Show more". `reload` starts again (a
 * new filter); an answer to an older load is dropped. The items are plain
 * reactive objects, so a live frame can be merged into the one shown.
 */
export function useStream<T extends { id: number }>(want = 20) {
  const items = ref([]) as Ref<T[]>;
  const cursor = ref<string | null>(null);
  const loading = ref(false);
  const loaded = ref(false);
  const source = shallowRef<{ fetch: (cursor: string | undefined) => Promise<ApiPage<T>>; keep: (item: T) => boolean } | null>(null);
  let generation = 0;

  async function load(from: string | undefined, replace: boolean) {
    const current = source.value;
    if (!current) return;
    const mine = ++generation;
    loading.value = true;
    try {
      const page = await fillPage(current.fetch, current.keep, from, want);
      if (mine !== generation) return;
      const seen = new Set(replace ? [] : items.value.map((i) => i.id));
      items.value = [...(replace ? [] : items.value), ...page.items.filter((i) => !seen.has(i.id))];
      cursor.value = page.cursor;
      loaded.value = true;
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  /** Lists from the start with `fetch` and `keep`; null lists nothing. Throws what the API answered. */
  async function reload(next: { fetch: (cursor: string | undefined) => Promise<ApiPage<T>>; keep: (item: T) => boolean } | null) {
    source.value = next;
    cursor.value = null;
    if (!next) {
      generation++;
      items.value = [];
      loading.value = false;
      loaded.value = true;
      return;
    }
    await load(undefined, true);
  }

  /** The next page. Throws what the API answered. */
  async function more() {
    if (loading.value || cursor.value === null) return;
    await load(cursor.value, false);
  }

  /** Drops an item (deleted). */
  function remove(id: number) {
    items.value = items.value.filter((i) => i.id !== id);
  }

  const hasMore = computed(() => cursor.value !== null);
  return { items, hasMore, loading, loaded, reload, more, remove };
}
