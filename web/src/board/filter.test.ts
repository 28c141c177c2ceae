import { describe, expect, it } from 'vitest';
import type { Auction, EventItem } from '../api/types';
import { auctionOrder, filterOf, queryOf, showsAuction, showsEvent, type BoardFilter } from './filter';

const studio = (id: number, timezone: string) => ({ id, name: `Studio ${id}`, address: '', timezone, maps_url: null }) as Auction['studio'];
const auction = (fields: Partial<Auction>): Auction =>
  ({ id: 1, studio_id: 1, studio: studio(1, 'Europe/Istanbul'), status: 'ACTIVE', scheduled_at: '2026-03-04T16:00:00Z', ends_at: '2026-03-04T15:00:00Z', ...fields }) as Auction;
const event = (fields: Partial<EventItem>): EventItem =>
  ({ id: 1, studio_id: 1, studio: studio(1, 'Europe/Istanbul'), is_active: true, starts_at: '2026-03-04T16:00:00Z', ...fields }) as EventItem;
const all: BoardFilter = { day: 'any', studio: null, kind: 'all' };
// Wednesday 2026-03-04, 12:00 in Istanbul.
const now = Date.parse('2026-03-04T09:00:00Z');

describe('the board filter', () => {
  it('round-trips through the URL, and reads anything unknown as its default', () => {
    const filter: BoardFilter = { day: 'tomorrow', studio: 7, kind: 'events' };
    expect(queryOf(filter)).toEqual({ day: 'tomorrow', studio: '7', kind: 'events' });
    expect(filterOf(queryOf(filter) as Record<string, string>)).toEqual(filter);
    expect(queryOf(all)).toEqual({});
    expect(filterOf({ day: 'yesterday', studio: '-1', kind: ['auctions', 'events'] })).toEqual({ ...all, kind: 'auctions' });
    expect(filterOf({ studio: '2x' })).toEqual(all);
  });

  it('shows auctions not ended yet, of the studio and kind asked for', () => {
    for (const status of ['ACTIVE', 'HELD', 'DRAFT'] as const) expect(showsAuction(all, auction({ status }), now)).toBe(true);
    for (const status of ['SOLD', 'EXPIRED', 'CANCELLED'] as const) expect(showsAuction(all, auction({ status }), now)).toBe(false);
    expect(showsAuction({ ...all, studio: 2 }, auction({}), now)).toBe(false);
    expect(showsAuction({ ...all, studio: 1 }, auction({}), now)).toBe(true);
    expect(showsAuction({ ...all, kind: 'events' }, auction({}), now)).toBe(false);
  });

  it("reads the day of a session on its studio's calendar", () => {
    // 23:30 Wednesday in Istanbul is Wednesday there, though Thursday 03:30 for a device in Asia/Bangkok.
    const late = auction({ scheduled_at: '2026-03-04T20:30:00Z' });
    expect(showsAuction({ ...all, day: 'today' }, late, now)).toBe(true);
    expect(showsAuction({ ...all, day: 'tomorrow' }, late, now)).toBe(false);
    // The same instant at a New York studio is Wednesday afternoon there.
    const newYork = auction({ scheduled_at: '2026-03-05T02:00:00Z', studio: studio(1, 'America/New_York') });
    expect(showsAuction({ ...all, day: 'today' }, newYork, now)).toBe(true);
    expect(showsAuction({ ...all, day: 'today' }, { ...newYork, studio: studio(1, 'Europe/Istanbul') }, now)).toBe(false);
    expect(showsAuction({ ...all, day: 'week' }, auction({ scheduled_at: '2026-03-08T20:00:00Z' }), now)).toBe(true);
    expect(showsAuction({ ...all, day: 'week' }, auction({ scheduled_at: '2026-03-08T21:00:00Z' }), now)).toBe(false);
  });

  it('shows events on sale that have not started', () => {
    expect(showsEvent(all, event({}), now)).toBe(true);
    expect(showsEvent(all, event({ is_active: false }), now)).toBe(false);
    expect(showsEvent(all, event({ starts_at: '2026-03-04T08:59:00Z' }), now)).toBe(false);
    expect(showsEvent({ ...all, kind: 'auctions' }, event({}), now)).toBe(false);
    expect(showsEvent({ ...all, day: 'tomorrow' }, event({}), now)).toBe(false);
    expect(showsEvent({ ...all, day: 'tomorrow' }, event({ starts_at: '2026-03-05T16:00:00Z' }), now)).toBe(true);
  });

  it('lists running auctions first, then held, then those that open later', () => {
    const list = [
      auction({ id: 3, status: 'DRAFT', ends_at: '2026-03-04T10:00:00Z' }),
      auction({ id: 2, status: 'HELD' }),
      auction({ id: 5, status: 'ACTIVE', ends_at: '2026-03-05T10:00:00Z' }),
      auction({ id: 4, status: 'ACTIVE', ends_at: '2026-03-04T10:00:00Z' }),
    ];
    expect(list.sort(auctionOrder).map((a) => a.id)).toEqual([4, 5, 2, 3]);
  });
});
