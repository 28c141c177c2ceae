import type { AuctionStatus, ReservationStatus } from '../api/types';

const auctionWords: Record<AuctionStatus, string> = {
  DRAFT: 'Upcoming',
  ACTIVE: 'Active',
  HELD: 'On hold',
  SOLD: 'Sold',
  EXPIRED: 'Expired',
  CANCELLED: 'Cancelled',
};

const reservationWords: Record<ReservationStatus, string> = {
  HOLD: 'Held',
  CONFIRMED: 'Confirmed',
  CHECKED_IN: 'Checked in',
  NO_SHOW: 'No-show',
  EXPIRED: 'Expired',
  CANCELLED: 'Cancelled',
};

export function auctionStatusWord(status: string): string {
  return auctionWords[status as AuctionStatus] ?? status;
}

export function reservationStatusWord(status: string): string {
  return reservationWords[status as ReservationStatus] ?? status;
}

export function formatWhen(iso: string): string {
  return new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}
