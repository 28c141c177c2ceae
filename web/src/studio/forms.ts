// The studio's auction and event forms, one shape for create, edit and
// duplicate: the fields as typed (times as `datetime-local` wall-clock times
// in the studio's zone, money as decimal strings), what a create sends, and
// what an edit sends (only the fields that changed, so an untouched time keeps
// its seconds and an untouched price its exact value).
import type { Auction, EventItem, Studio } from '../api/types';
import { utcToZoned, zonedToUtc } from '../time/zone';

/** A `datetime-local` value read on `zone`'s clock, as an RFC 3339 instant ('' if it is not one). */
export function instantOf(value: string, zone: string | null): string {
  const t = zone ? zonedToUtc(value, zone) : NaN;
  return Number.isNaN(t) ? '' : new Date(t).toISOString();
}

/** An instant as the `datetime-local` value `zone`'s clock shows. */
export const localOf = (at: string, zone: string) => utcToZoned(Date.parse(at), zone);

export interface AuctionForm {
  title: string;
  description: string;
  start_price: string;
  floor_price: string;
  drop_amount: string;
  drop_interval_minutes: number;
  starts_at: string;
  ends_at: string;
  scheduled_at: string;
  turbo: boolean;
  turbo_trigger_before_minutes: number;
  turbo_drop_amount: string;
  turbo_interval_minutes: number;
}

/** A new auction's form: sensible prices, times to fill in. */
export function blankAuction(): AuctionForm {
  return {
    title: '',
    description: '',
    start_price: '500.00',
    floor_price: '100.00',
    drop_amount: '50.00',
    drop_interval_minutes: 10,
    starts_at: '',
    ends_at: '',
    scheduled_at: '',
    turbo: false,
    turbo_trigger_before_minutes: 30,
    turbo_drop_amount: '20.00',
    turbo_interval_minutes: 5,
  };
}

/** The form showing `auction`, its times on `zone`'s clock. */
export function auctionFormOf(auction: Auction, zone: string): AuctionForm {
  const blank = blankAuction();
  return {
    title: auction.title,
    description: auction.description,
    start_price: auction.start_price,
    floor_price: auction.floor_price,
    drop_amount: auction.drop_amount,
    drop_interval_minutes: auction.drop_interval_minutes,
    starts_at: localOf(auction.starts_at, zone),
    ends_at: localOf(auction.ends_at, zone),
    scheduled_at: localOf(auction.scheduled_at, zone),
    turbo: auction.turbo !== null,
    turbo_trigger_before_minutes: auction.turbo?.trigger_before_minutes ?? blank.turbo_trigger_before_minutes,
    turbo_drop_amount: auction.turbo?.drop_amount ?? blank.turbo_drop_amount,
    turbo_interval_minutes: auction.turbo?.interval_minutes ?? blank.turbo_interval_minutes,
  };
}

/** The auction's fields as the API takes them (create, and the schedule preview). */
export function auctionFields(form: AuctionForm, zone: string | null) {
  return {
    title: form.title,
    description: form.description,
    start_price: form.start_price,
    floor_price: form.floor_price,
    drop_amount: form.drop_amount,
    drop_interval_minutes: Number(form.drop_interval_minutes),
    starts_at: instantOf(form.starts_at, zone),
    ends_at: instantOf(form.ends_at, zone),
    scheduled_at: instantOf(form.scheduled_at, zone),
    turbo: form.turbo
      ? {
          trigger_before_minutes: Number(form.turbo_trigger_before_minutes),
          drop_amount: form.turbo_drop_amount,
          interval_minutes: Number(form.turbo_interval_minutes),
        }
      : null,
  };
}

const TURBO_FIELDS = ['turbo', 'turbo_trigger_before_minutes', 'turbo_drop_amount', 'turbo_interval_minutes'] as const;

/** What an edit sends: the fields that differ from `before` (turbo whole, or null to remove it). */
export function auctionChanges(before: AuctionForm, after: AuctionForm, zone: string) {
  const all = auctionFields(after, zone);
  const patch: Partial<ReturnType<typeof auctionFields>> = {};
  for (const key of ['title', 'description', 'start_price', 'floor_price', 'drop_amount', 'drop_interval_minutes', 'starts_at', 'ends_at', 'scheduled_at'] as const) {
    if (String(before[key]) !== String(after[key])) Object.assign(patch, { [key]: all[key] });
  }
  const turboChanged = after.turbo !== before.turbo || (after.turbo && TURBO_FIELDS.some((key) => String(before[key]) !== String(after[key])));
  if (turboChanged) patch.turbo = all.turbo;
  return patch;
}

export interface EventForm {
  title: string;
  description: string;
  capacity: number;
  price: string;
  starts_at: string;
  ends_at: string;
  is_active: boolean;
}

export function blankEvent(): EventForm {
  return { title: '', description: '', capacity: 20, price: '150.00', starts_at: '', ends_at: '', is_active: true };
}

/** The form showing `event`, its times on `zone`'s clock. */
export function eventFormOf(event: EventItem, zone: string): EventForm {
  return {
    title: event.title,
    description: event.description,
    capacity: event.capacity,
    price: event.price,
    starts_at: localOf(event.starts_at, zone),
    ends_at: localOf(event.ends_at, zone),
    is_active: event.is_active,
  };
}

/** The event's fields as the API takes them. */
export function eventFields(form: EventForm, zone: string | null) {
  return {
    title: form.title,
    description: form.description,
    capacity: Number(form.capacity),
    price: form.price,
    starts_at: instantOf(form.starts_at, zone),
    ends_at: instantOf(form.ends_at, zone),
    is_active: form.is_active,
  };
}

/** What an edit sends: the fields that differ from `before`. */
export function eventChanges(before: EventForm, after: EventForm, zone: string) {
  const all = eventFields(after, zone);
  const patch: Partial<ReturnType<typeof eventFields>> = {};
  for (const key of Object.keys(all) as (keyof EventForm)[]) {
    if (String(before[key]) !== String(after[key])) Object.assign(patch, { [key]: all[key] });
  }
  return patch;
}

export interface StudioForm {
  name: string;
  address: string;
  timezone: string;
  /** '' for none. */
  maps_url: string;
}

export function studioFormOf(studio: Studio): StudioForm {
  return { name: studio.name, address: studio.address, timezone: studio.timezone, maps_url: studio.maps_url ?? '' };
}

/** The studio's fields as the API takes them; an empty map link is none. The server checks the zone's name. */
export function studioFields(form: StudioForm) {
  return {
    name: form.name,
    address: form.address,
    timezone: form.timezone as Studio['timezone'],
    maps_url: form.maps_url.trim() === '' ? null : form.maps_url.trim(),
  };
}

/** What an edit sends: the fields that differ from `before` (`maps_url: null` removes the link). */
export function studioChanges(before: StudioForm, after: StudioForm) {
  const all = studioFields(after);
  const was = studioFields(before);
  const patch: Partial<ReturnType<typeof studioFields>> = {};
  for (const key of Object.keys(all) as (keyof typeof all)[]) {
    if (all[key] !== was[key]) Object.assign(patch, { [key]: all[key] });
  }
  return patch;
}
