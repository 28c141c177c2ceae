import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ref } from 'vue';
import type { Auction, EventItem } from '../api/types';
import type { BoardFilter } from './filter';

// The API, by list: each answer is the page for the status (or events) and cursor asked for.
const pages = new Map<string, { items: unknown[]; next_cursor: string | null }>();
let gate: Promise<void> = Promise.resolve();
vi.mock('../api/client', () => ({
  api: {
    GET: async (path: string, { params }: { params: { query: Record<string, unknown> } }) => {
      await gate;
      const { status, cursor } = params.query;
      const key = `${path === '/api/v1/events' ? 'events' : String(status)}:${String(cursor ?? '')}`;
      return pages.get(key) ?? { items: [], next_cursor: null };
    },
  },
  call: (answer: unknown) => answer,
}));
const { useListing } = await import('./listing');

const studio = { id: 1, name: 'Moda', address: '', timezone: 'Europe/Istanbul', maps_url: null } as Auction['studio'];
const soon = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
const auction = (id: number, fields: Partial<Auction> = {}): Auction =>
  ({
    id, studio_id: 1, studio, title: `Slot ${id}`, status: 'ACTIVE', starts_at: soon(-10), ends_at: soon(60 + id), scheduled_at: soon(120),
    start_price: '500.00', floor_price: '100.00', drop_amount: '50.00', drop_interval_minutes: 60, turbo: null,
    current_price: '500.00', next_price: '450.00', next_change_at: soon(50), turbo_active: false, ...fields,
  }) as Auction;
const event = (id: number, fields: Partial<EventItem> = {}): EventItem =>
  ({ id, studio_id: 1, studio, title: `Event ${id}`, is_active: true, starts_at: soon(600 + id), available: 10, capacity: 10, ...fields }) as EventItem;
const everything: BoardFilter = { day: 'any', studio: null, kind: 'all' };
const ids = (list: { id: number }[]) => list.map((item) => item.id);

beforeEach(() => {
  pages.clear();
  gate = Promise.resolve();
});

describe("the board's lists", () => {
  it('pages by cursor, brings in what the catalogue announces, and lists nothing twice', async () => {
    pages.set('ACTIVE:', { items: [auction(1), auction(2)], next_cursor: 'c2' });
    pages.set('ACTIVE:c2', { items: [auction(3), auction(4)], next_cursor: null });
    pages.set('events:', { items: [event(7)], next_cursor: null });
    const listing = useListing(ref(everything), () => ['Europe/Istanbul']);
    await listing.reload();
    expect(ids(listing.auctions.value)).toEqual([1, 2]);
    expect(listing.hasMore.value).toBe(true);

    // A new auction is announced; one is sold.
    listing.heard('auction_updated', auction(4, { title: 'New' }));
    listing.heard('auction_booked', auction(1, { status: 'SOLD' }));
    expect(ids(listing.auctions.value)).toEqual([2, 4]);

    // The next page lists the new one again: merged, not repeated.
    expect(await listing.more()).toBe(true);
    expect(ids(listing.auctions.value)).toEqual([2, 3, 4]);
    expect(listing.hasMore.value).toBe(false);
    expect(await listing.more()).toBe(false);

    // Events: a new one, seats changing, one hidden.
    listing.heard('availability_changed', event(8));
    listing.heard('availability_changed', event(7, { available: 4 }));
    expect(ids(listing.events.value)).toEqual([7, 8]);
    expect(listing.events.value[0]!.available).toBe(4);
    listing.heard('event_hidden', { id: 8 });
    listing.heard('availability_changed', event(9, { is_active: false }));
    expect(ids(listing.events.value)).toEqual([7]);
  });

  it('keeps the object a card holds across a reload', async () => {
    pages.set('ACTIVE:', { items: [auction(1)], next_cursor: null });
    const listing = useListing(ref(everything), () => []);
    await listing.reload();
    const shown = listing.auctions.value[0]!;
    pages.set('ACTIVE:', { items: [auction(1, { current_price: '450.00' })], next_cursor: null });
    await listing.reload();
    expect(listing.auctions.value[0]).toBe(shown);
    expect(shown.current_price).toBe('450.00');
  });

  it('applies what it hears during a load after the load', async () => {
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    const listing = useListing(ref(everything), () => []);
    const loading = listing.reload();
    expect(listing.loading.value).toBe(true);
    listing.heard('auction_updated', auction(5));
    open();
    await loading;
    expect(ids(listing.auctions.value)).toEqual([5]);
  });

  it('adds only what the filter shows', async () => {
    const listing = useListing(ref<BoardFilter>({ ...everything, kind: 'events', studio: 2 }), () => []);
    await listing.reload();
    listing.heard('auction_updated', auction(5));
    listing.heard('availability_changed', event(6));
    listing.heard('availability_changed', event(7, { studio_id: 2 }));
    expect(ids(listing.auctions.value)).toEqual([]);
    expect(ids(listing.events.value)).toEqual([7]);
  });
});
