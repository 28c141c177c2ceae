import { describe, expect, it } from 'vitest';
import type { Auction, EventItem, Studio } from '../api/types';
import {
  auctionChanges,
  auctionFields,
  auctionFormOf,
  eventChanges,
  eventFields,
  eventFormOf,
  instantOf,
  studioChanges,
  studioFields,
  studioFormOf,
} from './forms';

const ISTANBUL = 'Europe/Istanbul';
const BERLIN = 'Europe/Berlin';

const auction = {
  id: 7,
  studio_id: 2,
  title: 'Salsa at eight',
  description: 'Beginners',
  start_price: '500.00',
  floor_price: '100.00',
  drop_amount: '50.00',
  drop_interval_minutes: 10,
  // With seconds: an edit that leaves the times alone must not round them.
  starts_at: '2026-03-08T14:00:30.250Z',
  ends_at: '2026-03-08T16:00:00Z',
  scheduled_at: '2026-03-08T17:00:00Z',
  session_minutes: 60,
  turbo: { trigger_before_minutes: 30, drop_amount: '20.00', interval_minutes: 5 },
} as Auction;

describe('the auction form', () => {
  it("shows an auction's times on the studio's clock, whatever the device's", () => {
    const form = auctionFormOf(auction, ISTANBUL);
    expect([form.starts_at, form.ends_at, form.scheduled_at]).toEqual(['2026-03-08T17:00', '2026-03-08T19:00', '2026-03-08T20:00']);
    expect(form.turbo).toBe(true);
    expect(form.turbo_interval_minutes).toBe(5);
  });

  it('sends what a create takes: instants, numbers, turbo or null', () => {
    const form = auctionFormOf(auction, ISTANBUL);
    const fields = auctionFields(form, ISTANBUL);
    expect(fields.scheduled_at).toBe('2026-03-08T17:00:00.000Z');
    expect(fields.turbo).toEqual({ trigger_before_minutes: 30, drop_amount: '20.00', interval_minutes: 5 });
    expect(auctionFields({ ...form, turbo: false }, ISTANBUL).turbo).toBeNull();
    expect(auctionFields({ ...form, starts_at: '' }, ISTANBUL).starts_at).toBe('');
    expect(instantOf('2026-03-08T20:00', null)).toBe('');
  });

  it('keeps a copy at the same wall-clock times across a clock change', () => {
    // 19:00 in Berlin on 20 March is 18:00Z; a copy typed for 3 April (summer time) at 19:00 is 17:00Z.
    const before = auctionFormOf({ ...auction, scheduled_at: '2026-03-20T18:00:00Z' }, BERLIN);
    expect(before.scheduled_at).toBe('2026-03-20T19:00');
    const copy = { ...before, scheduled_at: '2026-04-03T19:00' };
    expect(auctionFields(copy, BERLIN).scheduled_at).toBe('2026-04-03T17:00:00.000Z');
  });

  it('edits send only what changed', () => {
    const before = auctionFormOf(auction, ISTANBUL);
    expect(auctionChanges(before, { ...before }, ISTANBUL)).toEqual({});
    expect(auctionChanges(before, { ...before, title: 'Salsa at nine', scheduled_at: '2026-03-08T21:00' }, ISTANBUL)).toEqual({
      title: 'Salsa at nine',
      scheduled_at: '2026-03-08T18:00:00.000Z',
    });
    expect(auctionChanges(before, { ...before, drop_interval_minutes: 15 }, ISTANBUL)).toEqual({ drop_interval_minutes: 15 });
  });

  it('sends turbo whole when any part of it changed, and null to remove it', () => {
    const before = auctionFormOf(auction, ISTANBUL);
    expect(auctionChanges(before, { ...before, turbo_drop_amount: '25.00' }, ISTANBUL)).toEqual({
      turbo: { trigger_before_minutes: 30, drop_amount: '25.00', interval_minutes: 5 },
    });
    expect(auctionChanges(before, { ...before, turbo: false }, ISTANBUL)).toEqual({ turbo: null });
    // Turbo's fields while it is off change nothing.
    const off = { ...before, turbo: false };
    expect(auctionChanges(off, { ...off, turbo_drop_amount: '1.00' }, ISTANBUL)).toEqual({});
  });
});

describe('the event form', () => {
  const event = {
    id: 3,
    studio_id: 2,
    title: 'Yoga',
    description: 'Bring a mat',
    capacity: 10,
    price: '150.00',
    starts_at: '2026-06-01T06:00:00Z',
    ends_at: '2026-06-01T07:00:00Z',
    is_active: true,
  } as EventItem;

  it("shows the event on the studio's clock and sends it back as instants", () => {
    const form = eventFormOf(event, ISTANBUL);
    expect([form.starts_at, form.ends_at]).toEqual(['2026-06-01T09:00', '2026-06-01T10:00']);
    expect(eventFields(form, ISTANBUL)).toEqual({
      title: 'Yoga',
      description: 'Bring a mat',
      capacity: 10,
      price: '150.00',
      starts_at: '2026-06-01T06:00:00.000Z',
      ends_at: '2026-06-01T07:00:00.000Z',
      is_active: true,
    });
  });

  it('edits send only what changed', () => {
    const before = eventFormOf(event, ISTANBUL);
    expect(eventChanges(before, { ...before }, ISTANBUL)).toEqual({});
    expect(eventChanges(before, { ...before, capacity: 12, is_active: false }, ISTANBUL)).toEqual({ capacity: 12, is_active: false });
  });
});

describe('the studio form', () => {
  const studio = { id: 1, name: 'Moda', address: 'Moda Cd. 1', timezone: ISTANBUL, maps_url: null } as Studio;

  it('sends no map link for an empty one', () => {
    const form = studioFormOf(studio);
    expect(form.maps_url).toBe('');
    expect(studioFields(form).maps_url).toBeNull();
    expect(studioFields({ ...form, maps_url: ' https://maps.example/moda ' }).maps_url).toBe('https://maps.example/moda');
  });

  it('edits send only what changed; clearing the map link sends null', () => {
    const before = studioFormOf({ ...studio, maps_url: 'https://maps.example/moda' });
    expect(studioChanges(before, { ...before })).toEqual({});
    expect(studioChanges(before, { ...before, timezone: BERLIN, name: 'Moda 2' })).toEqual({ timezone: BERLIN, name: 'Moda 2' });
    expect(studioChanges(before, { ...before, maps_url: '' })).toEqual({ maps_url: null });
  });
});
