import { describe, expect, it } from 'vitest';
import type { Auction, EventItem } from '../api/types';
import { auctionsWanted, eventsWanted, fillPage, filterOf, isPast, keepsWhen, queryOf, statusesFor, useStream, type ApiPage } from './catalogue';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-03-08T12:00:00Z');
const at = (ms: number) => new Date(ms).toISOString();

const auction = (fields: Partial<Auction> = {}) =>
  ({ id: 1, status: 'DRAFT', scheduled_at: at(NOW + HOUR), session_minutes: 60, ...fields }) as Auction;
const event = (fields: Partial<EventItem> = {}) =>
  ({ id: 1, is_active: true, starts_at: at(NOW + HOUR), ends_at: at(NOW + 2 * HOUR), ...fields }) as EventItem;

describe("the catalogue's filter", () => {
  it('reads upcoming items of every kind and status by default, and leaves defaults out of the URL', () => {
    const filter = filterOf({});
    expect(filter).toEqual({ kind: 'all', status: 'any', when: 'upcoming' });
    expect(queryOf(filter)).toEqual({});
  });

  it('round-trips through the URL', () => {
    const filter = filterOf({ kind: 'events', status: 'inactive', when: 'past' });
    expect(filter).toEqual({ kind: 'events', status: 'inactive', when: 'past' });
    expect(queryOf(filter)).toEqual({ kind: 'events', status: 'inactive', when: 'past' });
  });

  it('reads anything unknown, or a status that does not go with the kind, as the default', () => {
    expect(filterOf({ kind: 'rooms', status: 'LOST', when: 'soon' })).toEqual({ kind: 'all', status: 'any', when: 'upcoming' });
    expect(filterOf({ kind: 'events', status: 'SOLD' }).status).toBe('any');
    expect(filterOf({ kind: 'auctions', status: 'inactive' }).status).toBe('any');
    expect(filterOf({ kind: 'all', status: 'SOLD' }).status).toBe('SOLD');
  });

  it('offers the statuses of the kinds shown', () => {
    expect(statusesFor('auctions').events).toEqual([]);
    expect(statusesFor('events')).toEqual({ auctions: [], events: ['active', 'inactive'] });
    expect(statusesFor('all').auctions).toContain('DRAFT');
  });

  it("asks the API for the auctions and events the filter shows (an auction's status leaves events out, and back)", () => {
    expect(auctionsWanted(filterOf({}))).toEqual({ status: undefined });
    expect(eventsWanted(filterOf({}))).toEqual({ is_active: 'all' });
    expect(auctionsWanted(filterOf({ status: 'SOLD' }))).toEqual({ status: 'SOLD' });
    expect(eventsWanted(filterOf({ status: 'SOLD' }))).toBeNull();
    expect(auctionsWanted(filterOf({ status: 'active' }))).toBeNull();
    expect(eventsWanted(filterOf({ status: 'active' }))).toEqual({ is_active: 'true' });
    expect(eventsWanted(filterOf({ status: 'inactive' }))).toEqual({ is_active: 'false' });
    expect(auctionsWanted(filterOf({ kind: 'events' }))).toBeNull();
    expect(eventsWanted(filterOf({ kind: 'auctions' }))).toBeNull();
  });
});

describe('past and upcoming', () => {
  it("reads an auction as past once its session (scheduled_at plus its length) is over", () => {
    expect(isPast(auction({ scheduled_at: at(NOW - 30 * 60_000), session_minutes: 60 }), NOW)).toBe(false);
    expect(isPast(auction({ scheduled_at: at(NOW - HOUR), session_minutes: 60 }), NOW)).toBe(true);
  });

  it('reads an event under way as upcoming, and one that has ended as past', () => {
    expect(isPast(event({ starts_at: at(NOW - HOUR), ends_at: at(NOW + 1) }), NOW)).toBe(false);
    expect(isPast(event({ starts_at: at(NOW - HOUR), ends_at: at(NOW) }), NOW)).toBe(true);
  });

  it('keeps what the time choice asks for', () => {
    const over = event({ starts_at: at(NOW - 2 * HOUR), ends_at: at(NOW - HOUR) });
    const ahead = event();
    expect([keepsWhen('upcoming', over, NOW), keepsWhen('upcoming', ahead, NOW)]).toEqual([false, true]);
    expect([keepsWhen('past', over, NOW), keepsWhen('past', ahead, NOW)]).toEqual([true, false]);
    expect([keepsWhen('all', over, NOW), keepsWhen('all', ahead, NOW)]).toEqual([true, true]);
  });
});

/** A list of `n` numbered items served `size` at a time, cursors "c<index>". */
function served(n: number, size: number) {
  const items = Array.from({ length: n }, (_, i) => ({ id: i + 1 }));
  const asked: (string | undefined)[] = [];
  const fetch = async (cursor: string | undefined): Promise<ApiPage<{ id: number }>> => {
    asked.push(cursor);
    const from = cursor ? Number(cursor.slice(1)) : 0;
    const next = from + size < n ? `c${from + size}` : null;
    return { items: items.slice(from, from + size), next_cursor: next };
  };
  return { fetch, asked };
}

describe('paging through a list the API cannot narrow', () => {
  it('reads pages until enough are kept, and says where to go on from', async () => {
    const { fetch, asked } = served(100, 10);
    const page = await fillPage(fetch, (i) => i.id % 4 === 0, undefined, 5);
    expect(page.items.map((i) => i.id)).toEqual([4, 8, 12, 16, 20]);
    expect(page.cursor).toBe('c20');
    expect(asked).toEqual([undefined, 'c10']);
  });

  it('stops at the end of the list, or after so many pages', async () => {
    const short = served(25, 10);
    expect(await fillPage(short.fetch, () => false, undefined, 5)).toEqual({ items: [], cursor: null });
    expect(short.asked).toHaveLength(3);
    const long = served(1000, 10);
    const page = await fillPage(long.fetch, () => false, 'c100', 5, 3);
    expect(page).toEqual({ items: [], cursor: 'c130' });
  });

  it('shows more without listing an item twice, and drops an answer to a load it replaced', async () => {
    const stream = useStream<{ id: number }>(10);
    const { fetch } = served(25, 10);
    await stream.reload({ fetch, keep: () => true });
    expect(stream.items.value.map((i) => i.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(stream.hasMore.value).toBe(true);
    await stream.more();
    await stream.more();
    expect(stream.items.value).toHaveLength(25);
    expect(stream.hasMore.value).toBe(false);
    stream.remove(3);
    expect(stream.items.value.map((i) => i.id)).not.toContain(3);

    let release: () => void = () => undefined;
    const slow = async (): Promise<ApiPage<{ id: number }>> => {
      await new Promise<void>((resolve) => (release = resolve));
      return { items: [{ id: 99 }], next_cursor: null };
    };
    const stale = stream.reload({ fetch: slow, keep: () => true });
    await stream.reload({ fetch: served(2, 10).fetch, keep: () => true });
    release();
    await stale;
    expect(stream.items.value.map((i) => i.id)).toEqual([1, 2]);
    await stream.reload(null);
    expect(stream.items.value).toEqual([]);
    expect(stream.loaded.value).toBe(true);
  });
});
