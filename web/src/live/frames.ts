// The live protocol's messages (SPEC §9), by the names the app uses. Every type here
// is derived from frames.generated.ts, which `npm run gen` makes from
// openapi/asyncapi.json (and `npm run check:gen` keeps in step): edit the document,
// not the types.
import type {
  AuctionOut,
  ErrorFrame,
  EventOut,
  ReservationOut,
  ServerFrame,
  SubscribedFrame,
} from './frames.generated';

export type { ClientOp, ErrorFrame, ServerFrame } from './frames.generated';

/** An auction's live state: the `data` of its room's snapshot and events (the REST shape). */
export type AuctionLive = AuctionOut;

/** An event and its seats: the `data` of its room's snapshot and `availability_changed`. */
export type EventAvailability = EventOut;

/** A room's event: every frame with a room and `data` but `subscribed`; `seq`/`epoch` are absent on `price_update`. */
export type RoomEvent = Exclude<Extract<ServerFrame, { room: string; data: unknown }>, SubscribedFrame>;

/** The events whose `data` is an auction (`price_update` included). */
export type AuctionEventType = Extract<RoomEvent, { data: AuctionOut }>['type'];
/** The events whose `data` is a reservation. */
export type ReservationEventType = Extract<RoomEvent, { data: ReservationOut }>['type'];

/** The answer to `subscribe`; `data` (the snapshot) is null when `resumed`. */
export type Subscribed = SubscribedFrame;

/** A refused op's code. */
export type ErrorCode = ErrorFrame['code'];

/** The state changes whose `data` is an auction (every auction event but `price_update`). */
export const AUCTION_CHANGES: readonly string[] = [
  'auction_updated',
  'auction_held',
  'auction_reopened',
  'auction_booked',
  'turbo_triggered',
] satisfies readonly AuctionEventType[];
