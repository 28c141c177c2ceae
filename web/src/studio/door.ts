// The studio's door (SPEC §6 check-in): what a scanned QR or a typed code
// reads as, the roster's search, and a live reservation merged into a roster.
import type { components } from '../api/schema';
import type { Reservation } from '../api/types';

export type DoorSession = components['schemas']['DoorSessionOut'];
export type RosterEntry = components['schemas']['RosterEntryOut'];
export type Roster = components['schemas']['RosterOut'];
export type CheckIn = components['schemas']['CheckInOut'];

/**
 * A booking code as the server reads it (BookingCode::normalise): case,
 * spaces and dashes do not matter, and O, I and L read as 0, 1 and 1.
 */
export function normaliseCode(typed: string): string {
  return typed
    .replace(/[\s-]/g, '')
    .toUpperCase()
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
}

/**
 * The booking code a ticket's QR holds (TicketCode.vue draws the code
 * itself); a link carrying it (`…?code=X` or ending in `/X`) reads too.
 * null when the text holds no code.
 */
export function codeFromQr(text: string): string | null {
  const raw = text.trim();
  if (!raw) return null;
  if (/^https?:\/\//i.test(raw)) {
    try {
      const url = new URL(raw);
      const named = url.searchParams.get('code') ?? url.searchParams.get('booking_code');
      const last = url.pathname.split('/').filter(Boolean).pop();
      const found = named ?? last;
      return found ? codeFromQr(decodeURIComponent(found)) : null;
    } catch {
      return null;
    }
  }
  const code = normaliseCode(raw);
  return /^[0-9A-Z]{4,32}$/.test(code) ? code : null;
}

/** Text folded for a search: lower case, no accents, Turkish ı and İ as i. */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/ı/g, 'i');
}

/** Whether a roster entry answers a search: a part of the holder's name, or of the booking code. */
export function matchesSearch(entry: Pick<RosterEntry, 'full_name' | 'booking_code'>, query: string): boolean {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const name = fold(entry.full_name);
  if (words.every((w) => name.includes(w))) return true;
  const code = normaliseCode(query);
  return !!code && !!entry.booking_code && entry.booking_code.includes(code);
}

/** A session's key in the page's URL and the roster's query: `auction-7`, `event-12`. */
export const sessionKey = (s: { kind: 'auction' | 'event'; id: number }) => `${s.kind}-${s.id}`;

/** The session a key names, or null. */
export function sessionOfKey(key: string | null | undefined): { kind: 'auction' | 'event'; id: number } | null {
  const m = /^(auction|event)-(\d+)$/.exec(key ?? '');
  return m ? { kind: m[1] as 'auction' | 'event', id: Number(m[2]) } : null;
}

/** Whether a reservation is for that session. */
export function isFor(reservation: Pick<Reservation, 'target'>, session: { kind: 'auction' | 'event'; id: number }): boolean {
  return reservation.target.kind === session.kind && reservation.target.id === session.id;
}

/**
 * A roster with a reservation's new state merged in: its entry's status,
 * quantity and check-in time. `known` is false when the roster has no entry
 * for it (a new hold): the roster must be read again for the holder's name.
 * A reservation no longer live (expired, cancelled) leaves the roster.
 */
export function mergeReservation(entries: RosterEntry[], r: Reservation): { entries: RosterEntry[]; known: boolean } {
  const at = entries.findIndex((e) => e.reservation_id === r.id);
  if (at < 0) return { entries, known: false };
  if (r.status === 'EXPIRED' || r.status === 'CANCELLED') return { entries: entries.filter((e) => e.reservation_id !== r.id), known: true };
  const next = [...entries];
  next[at] = {
    ...next[at]!,
    status: r.status,
    quantity: r.quantity,
    booking_code: r.booking_code,
    checked_in_at: r.checked_in_at,
    hold_expires_at: r.status === 'HOLD' ? r.expires_at : null,
  };
  return { entries: next, known: true };
}
