// The live protocol's messages (SPEC §9), written by hand from
// crates/api/src/live/ for now.
// TODO(contract, issue 10): generate this file from openapi/asyncapi.json once
// it lands (`npm run gen`), and let `npm run check:gen` compare it too.
import type { Reservation } from '../api/types';

export type ClientOp =
  | { op: 'auth'; token: string }
  | { op: 'subscribe'; room: string; since?: number }
  | { op: 'unsubscribe'; room: string }
  | { op: 'ping' };

/** An auction's live state: the `data` of its room's snapshot and events. */
export interface AuctionLive {
  auction_id: number;
  studio_id: number;
  status: string;
  current_price: string;
  next_price: string | null;
  next_change_at: string | null;
  turbo_active: boolean;
  turbo_started_at: string | null;
  held_price: string | null;
}

/** An event's seats: the `data` of its room's snapshot and `availability_changed`. */
export interface EventAvailability {
  event_id: number;
  capacity: number;
  available: number;
  held_seats: number;
  held_count: number;
  confirmed_seats: number;
  confirmed_count: number;
}

export type AuctionEventType =
  | 'price_update'
  | 'turbo_triggered'
  | 'auction_held'
  | 'auction_reopened'
  | 'auction_booked'
  | 'auction_updated';
export type ReservationEventType =
  | 'hold_created'
  | 'booking_confirmed'
  | 'reservation_expired'
  | 'reservation_cancelled'
  | 'reservation_checked_in'
  | 'reservation_no_show';

/** A room's event; `seq`/`epoch` on state changes, absent on `price_update`. */
export interface RoomEvent<T extends string = string, D = unknown> {
  type: T;
  room: string;
  seq?: number;
  epoch?: number;
  at: string;
  data: D;
}

export interface Subscribed {
  type: 'subscribed';
  room: string;
  seq: number;
  epoch: number;
  at: string;
  resumed: boolean;
  /** The snapshot; null when `resumed` (the missed events follow instead). */
  data: unknown;
}

export interface ErrorFrame {
  type: 'error';
  code: string;
  detail?: string;
  op: string | null;
  room: string | null;
}

export type ServerFrame =
  | Subscribed
  | ErrorFrame
  | { type: 'unsubscribed'; room: string }
  | { type: 'pong'; at: string }
  | { type: 'authenticated'; user_id: number; role: string; expires_at: string }
  | { type: 'session_ended'; reason: string; rooms: string[] }
  | RoomEvent<AuctionEventType, AuctionLive>
  | RoomEvent<'availability_changed', EventAvailability>
  | RoomEvent<ReservationEventType, Reservation>;
