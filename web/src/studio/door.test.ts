import { describe, expect, it } from 'vitest';
import type { Reservation } from '../api/types';
import { codeFromQr, isFor, matchesSearch, mergeReservation, normaliseCode, sessionKey, sessionOfKey, type RosterEntry } from './door';

const entry = (fields: Partial<RosterEntry> = {}): RosterEntry => ({
  reservation_id: 1,
  user_id: 9,
  full_name: 'Ayşe Yılmaz',
  quantity: 2,
  status: 'CONFIRMED',
  booking_code: '7KQ2M9XD',
  checked_in_at: null,
  hold_expires_at: null,
  ...fields,
});

describe("a ticket's QR and a typed code", () => {
  it('reads the code the ticket draws, as the server normalises it', () => {
    expect(codeFromQr('7KQ2M9XD')).toBe('7KQ2M9XD');
    expect(codeFromQr('  7kq2-m9xd \n')).toBe('7KQ2M9XD');
    expect(normaliseCode('oil 2')).toBe('0112');
  });

  it('reads a code out of a link', () => {
    expect(codeFromQr('https://hothour.example/tickets/7KQ2M9XD')).toBe('7KQ2M9XD');
    expect(codeFromQr('https://hothour.example/door?code=7kq2m9xd')).toBe('7KQ2M9XD');
  });

  it('reads nothing out of what is no code', () => {
    expect(codeFromQr('')).toBeNull();
    expect(codeFromQr('hello, world!')).toBeNull();
    expect(codeFromQr('https://hothour.example/')).toBeNull();
  });
});

describe("the roster's search", () => {
  it('finds a holder by any part of the name, whatever the case and the accents', () => {
    expect(matchesSearch(entry(), 'ayşe')).toBe(true);
    expect(matchesSearch(entry(), 'AYSE')).toBe(true);
    expect(matchesSearch(entry(), 'yilmaz ay')).toBe(true);
    expect(matchesSearch(entry({ full_name: 'İlker Işık' }), 'ilker isik')).toBe(true);
    expect(matchesSearch(entry(), 'mehmet')).toBe(false);
  });

  it('finds a booking by its code, typed loosely', () => {
    expect(matchesSearch(entry(), '7kq2')).toBe(true);
    expect(matchesSearch(entry(), 'm9-xd')).toBe(true);
    expect(matchesSearch(entry({ booking_code: null }), '7KQ2')).toBe(false);
  });

  it('keeps everyone for an empty search', () => {
    expect(matchesSearch(entry(), '   ')).toBe(true);
  });
});

describe('sessions and live reservations', () => {
  it('names a session in the URL and back', () => {
    expect(sessionKey({ kind: 'event', id: 12 })).toBe('event-12');
    expect(sessionOfKey('auction-7')).toEqual({ kind: 'auction', id: 7 });
    expect(sessionOfKey('room-7')).toBeNull();
    expect(sessionOfKey(undefined)).toBeNull();
  });

  const reservation = (fields: Partial<Reservation>) =>
    ({ id: 1, status: 'CHECKED_IN', quantity: 2, booking_code: '7KQ2M9XD', checked_in_at: '2026-03-08T17:05:00Z', expires_at: '2026-03-08T17:00:00Z', target: { kind: 'event', id: 3 }, ...fields }) as Reservation;

  it('merges a check-in into its entry', () => {
    const { entries, known } = mergeReservation([entry(), entry({ reservation_id: 2 })], reservation({}));
    expect(known).toBe(true);
    expect(entries[0]).toMatchObject({ status: 'CHECKED_IN', checked_in_at: '2026-03-08T17:05:00Z', full_name: 'Ayşe Yılmaz' });
    expect(entries[1]!.status).toBe('CONFIRMED');
  });

  it('drops a reservation that lapsed, and says when one is new', () => {
    expect(mergeReservation([entry()], reservation({ status: 'EXPIRED' })).entries).toEqual([]);
    const fresh = mergeReservation([entry()], reservation({ id: 5, status: 'HOLD' }));
    expect(fresh.known).toBe(false);
    expect(fresh.entries).toHaveLength(1);
  });

  it("tells a reservation for the session from another's", () => {
    expect(isFor(reservation({}), { kind: 'event', id: 3 })).toBe(true);
    expect(isFor(reservation({}), { kind: 'auction', id: 3 })).toBe(false);
  });
});
