// Status words (SPEC §12), from the message catalogues.
import type { AuctionStatus, ReservationStatus } from '../api/types';
import { t } from '../i18n';

export const AUCTION_STATUSES: readonly AuctionStatus[] = ['DRAFT', 'ACTIVE', 'HELD', 'SOLD', 'EXPIRED', 'CANCELLED'];
export const RESERVATION_STATUSES: readonly ReservationStatus[] = ['HOLD', 'CONFIRMED', 'CHECKED_IN', 'NO_SHOW', 'EXPIRED', 'CANCELLED'];

/** The studio room's reservation events, worded in its live feed (catalogue keys `feed.<type>`). */
export const FEED_TYPES: readonly string[] = [
  'hold_created',
  'booking_confirmed',
  'reservation_expired',
  'reservation_cancelled',
  'reservation_checked_in',
  'reservation_no_show',
  'payment_succeeded',
  'payment_refunded',
];

export function auctionStatusWord(status: string): string {
  return (AUCTION_STATUSES as readonly string[]).includes(status) ? t(`status.auction.${status}`) : status;
}

/** An event's state in the studio's catalogue: open for booking, or taken off sale (catalogue keys `catalogue.eventStatus.<state>`). */
export function eventStateWord(isActive: boolean): string {
  return t(`catalogue.eventStatus.${isActive ? 'active' : 'inactive'}`);
}

export function reservationStatusWord(status: string): string {
  return (RESERVATION_STATUSES as readonly string[]).includes(status) ? t(`status.reservation.${status}`) : status;
}
