// The board's lists: pages of the API's lists by cursor (the auctions by
// status: on sale, held, opening later; the upcoming events), kept live by
// the public `catalogue` room. Cards hold on to their item, so a reload or a
// frame updates the object already shown instead of replacing it.
import { computed, ref, shallowRef, type Ref } from 'vue';
import { api, call } from '../api/client';
import type { Auction, EventItem } from '../api/types';
import { liveAuction, mergeLive } from '../live/auction';
import { AUCTION_CHANGES } from '../live/frames';
import { serverClock } from '../time/clock';
import { useAction } from '../composables/useAction';
import { spanOver } from './days';
import { auctionOrder, eventOrder, showsAuction, showsEvent, type BoardFilter } from './filter';

export const PAGE = 20;

/** One list the board pages through. */
type Stream = 'ACTIVE' | 'HELD' | 'DRAFT' | 'events';

/** What a load asked the API for (paging goes on with the same), and as of when the board shows what is upcoming. */
interface Basis {
  filter: BoardFilter;
  now: number;
  startsAfter: string;
  startsBefore: string | undefined;
}

/** The lists `filter` asks for as of `now`, the events' days narrowed over `zones`. */
function basisOf(filter: BoardFilter, now: number, zones: string[]): Basis {
  const span = spanOver(filter.day, now, zones);
  return {
    filter: { ...filter },
    now,
    startsAfter: new Date(Math.max(now, span?.from ?? now)).toISOString(),
    startsBefore: span ? new Date(span.to).toISOString() : undefined,
  };
}

interface Page {
  auctions: Auction[];
  events: EventItem[];
  next: string | null;
}

function streamsOf(filter: BoardFilter): Stream[] {
  const auctions: Stream[] = filter.kind === 'events' ? [] : ['ACTIVE', 'HELD', 'DRAFT'];
  return filter.kind === 'auctions' ? auctions : [...auctions, 'events'];
}

async function fetchPage(stream: Stream, basis: Basis, cursor?: string): Promise<Page> {
  const studio_id = basis.filter.studio ?? undefined;
  if (stream === 'events') {
    const query = { limit: PAGE, cursor, studio_id, starts_after: basis.startsAfter, starts_before: basis.startsBefore };
    const page = await call(api.GET('/api/v1/events', { params: { query } }));
    return { auctions: [], events: page.items, next: page.next_cursor };
  }
  const page = await call(api.GET('/api/v1/auctions', { params: { query: { status: stream, limit: PAGE, cursor, studio_id } } }));
  return { auctions: page.items, events: [], next: page.next_cursor };
}

/** `fresh` in its order, each merged into the object already held for its id. */
function reuse<T extends { id: number }>(held: T[], fresh: T[], merge: (old: T, data: T) => void, adopt: (data: T) => T): T[] {
  const byId = new Map(held.map((item) => [item.id, item]));
  return fresh.map((item) => {
    const old = byId.get(item.id);
    if (!old) return adopt(item);
    merge(old, item);
    return old;
  });
}

const mergeEvent = (old: EventItem, data: EventItem) => void Object.assign(old, data);
const adoptEvent = (data: EventItem) => data;

/**
 * The board's lists for `filter`, as `zones` (the studios' time zones in the
 * filter's scope) narrow the days. Call `reload` when the filter changes and
 * when the catalogue answers `subscribed`; pass its frames to `heard`.
 */
export function useListing(filter: Ref<BoardFilter>, zones: () => string[]) {
  const auctions = ref<Auction[]>([]);
  const events = ref<EventItem[]>([]);
  const cursors = ref<Partial<Record<Stream, string>>>({});
  const loading = ref(0);
  const loaded = ref(false);
  const { error, run } = useAction();
  const basis = shallowRef<Basis>(basisOf(filter.value, serverClock.now(), []));
  let generation = 0;
  /** Frames heard while a load was out: applied after it, so a new item is not lost to an older answer. */
  const heardMeanwhile: [string, unknown][] = [];

  async function load(work: () => Promise<void>) {
    loading.value++;
    await run(work, { busy: false });
    loading.value--;
    if (loading.value === 0) {
      loaded.value = true;
      for (const [type, data] of heardMeanwhile.splice(0)) apply(type, data);
    }
  }

  /** Page one of every list the filter asks for. */
  async function reload(): Promise<void> {
    const mine = ++generation;
    const asked = basisOf(filter.value, serverClock.now(), zones());
    await load(async () => {
      const streams = streamsOf(asked.filter);
      const pages = await Promise.all(streams.map((stream) => fetchPage(stream, asked)));
      if (mine !== generation) return;
      basis.value = asked;
      auctions.value = reuse(auctions.value, pages.flatMap((p) => p.auctions), mergeLive, liveAuction);
      events.value = reuse(events.value, pages.flatMap((p) => p.events), mergeEvent, adoptEvent);
      cursors.value = Object.fromEntries(streams.flatMap((stream, i) => (pages[i]!.next ? [[stream, pages[i]!.next]] : [])));
    });
  }

  const hasMore = computed(() => Object.keys(cursors.value).length > 0);

  /** The next page of every list that has one; false when there was nothing to do. */
  async function more(): Promise<boolean> {
    if (loading.value > 0 || !hasMore.value) return false;
    const mine = generation;
    const pending = Object.entries(cursors.value) as [Stream, string][];
    await load(async () => {
      const pages = await Promise.all(pending.map(([stream, cursor]) => fetchPage(stream, basis.value, cursor)));
      if (mine !== generation) return;
      // An item a frame added meanwhile is merged, not listed twice.
      for (const page of pages) {
        page.auctions.forEach((a) => upsertAuction(a, true));
        page.events.forEach((e) => upsertEvent(e, true));
      }
      cursors.value = Object.fromEntries(pending.flatMap(([stream], i) => (pages[i]!.next ? [[stream, pages[i]!.next]] : [])));
    });
    return true;
  }

  /** Merges `data` into the auction held for its id, or adds it (when listed by the API, or when the board shows it). */
  function upsertAuction(data: Auction, listed = false) {
    const old = auctions.value.find((a) => a.id === data.id);
    if (old) mergeLive(old, data);
    else if (listed || showsAuction(basis.value.filter, data, basis.value.now)) auctions.value.push(liveAuction({ ...data }));
  }

  function upsertEvent(data: EventItem, listed = false) {
    const old = events.value.find((e) => e.id === data.id);
    if (old) mergeEvent(old, data);
    else if (listed || showsEvent(basis.value.filter, data, basis.value.now)) events.value.push({ ...data });
  }

  function apply(type: string, data: unknown) {
    if (type === 'event_hidden') events.value = events.value.filter((e) => e.id !== (data as { id: number }).id);
    else if (type === 'availability_changed') upsertEvent(data as EventItem);
    else if (AUCTION_CHANGES.includes(type)) upsertAuction(data as Auction);
  }

  /** A frame of the catalogue room. */
  function heard(type: string, data: unknown) {
    if (loading.value > 0) heardMeanwhile.push([type, data]);
    else apply(type, data);
  }

  const shownAuctions = computed(() => auctions.value.filter((a) => showsAuction(basis.value.filter, a, basis.value.now)).sort(auctionOrder));
  const shownEvents = computed(() => events.value.filter((e) => showsEvent(basis.value.filter, e, basis.value.now)).sort(eventOrder));

  return { auctions: shownAuctions, events: shownEvents, hasMore, loading: computed(() => loading.value > 0), loaded, error, reload, more, heard };
}
