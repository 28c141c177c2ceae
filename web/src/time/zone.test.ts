import { describe, expect, it } from 'vitest';
import { formatInZone, offsetAt, utcToZoned, zonedToUtc } from './zone';

const iso = (t: number) => new Date(t).toISOString();

describe('wall-clock time in a studio zone → UTC', () => {
  it('reads Istanbul (UTC+3 all year, no DST) the same in winter and summer', () => {
    expect(iso(zonedToUtc('2026-01-15T19:00', 'Europe/Istanbul'))).toBe('2026-01-15T16:00:00.000Z');
    expect(iso(zonedToUtc('2026-07-15T19:00', 'Europe/Istanbul'))).toBe('2026-07-15T16:00:00.000Z');
    expect(iso(zonedToUtc('2026-03-29T03:30', 'Europe/Istanbul'))).toBe('2026-03-29T00:30:00.000Z');
  });

  it('follows New York across the spring change (2026-03-08, 02:00 → 03:00)', () => {
    expect(iso(zonedToUtc('2026-03-07T19:00', 'America/New_York'))).toBe('2026-03-08T00:00:00.000Z'); // EST −5
    expect(iso(zonedToUtc('2026-03-08T01:59', 'America/New_York'))).toBe('2026-03-08T06:59:00.000Z'); // EST
    expect(iso(zonedToUtc('2026-03-08T03:00', 'America/New_York'))).toBe('2026-03-08T07:00:00.000Z'); // EDT −4
    expect(iso(zonedToUtc('2026-03-08T19:00', 'America/New_York'))).toBe('2026-03-08T23:00:00.000Z'); // EDT
    // 02:30 never happens that night: moved forward by the gap, to 03:30 EDT.
    expect(iso(zonedToUtc('2026-03-08T02:30', 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z');
  });

  it('follows New York across the autumn change (2026-11-01, 02:00 → 01:00)', () => {
    expect(iso(zonedToUtc('2026-10-31T19:00', 'America/New_York'))).toBe('2026-10-31T23:00:00.000Z'); // EDT
    expect(iso(zonedToUtc('2026-11-01T19:00', 'America/New_York'))).toBe('2026-11-02T00:00:00.000Z'); // EST
    // 01:30 happens twice: the first one (EDT).
    expect(iso(zonedToUtc('2026-11-01T01:30', 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    expect(iso(zonedToUtc('2026-11-01T02:00', 'America/New_York'))).toBe('2026-11-01T07:00:00.000Z');
  });

  it('handles Europe/London and a zone with a half-hour offset', () => {
    expect(iso(zonedToUtc('2026-03-29T12:00', 'Europe/London'))).toBe('2026-03-29T11:00:00.000Z');
    expect(iso(zonedToUtc('2026-01-01T00:00', 'Asia/Kolkata'))).toBe('2025-12-31T18:30:00.000Z');
  });

  it('round-trips through utcToZoned', () => {
    for (const zone of ['Europe/Istanbul', 'America/New_York', 'UTC', 'Australia/Lord_Howe']) {
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 7 * 3_600_000 + 60_000) {
        const minute = Math.floor(t / 60_000) * 60_000;
        const local = utcToZoned(minute, zone);
        // A time that happens twice comes back as the first; both show the same wall time.
        expect(utcToZoned(zonedToUtc(local, zone), zone)).toBe(local);
      }
    }
  });

  it('gives NaN for a value that is not a datetime-local', () => {
    expect(zonedToUtc('', 'Europe/Istanbul')).toBeNaN();
    expect(zonedToUtc('tomorrow', 'Europe/Istanbul')).toBeNaN();
  });

  it('knows the offsets', () => {
    expect(offsetAt(Date.UTC(2026, 5, 1), 'Europe/Istanbul')).toBe(3 * 3_600_000);
    expect(offsetAt(Date.UTC(2026, 5, 1), 'America/New_York')).toBe(-4 * 3_600_000);
    expect(offsetAt(Date.UTC(2026, 0, 1), 'America/New_York')).toBe(-5 * 3_600_000);
  });
});

describe('showing a session time', () => {
  const at = '2026-03-08T16:00:00Z';
  it("shows the studio's clock, labelled when the device is elsewhere", () => {
    expect(formatInZone(at, 'Europe/Istanbul', 'tr-TR', { hour: '2-digit', minute: '2-digit' }, 'America/New_York')).toEqual({
      text: '19:00',
      zone: 'Istanbul',
    });
    expect(formatInZone(at, 'America/New_York', 'en-GB', { hour: '2-digit', minute: '2-digit' }, 'Europe/Istanbul')).toEqual({
      text: '12:00',
      zone: 'New York',
    });
  });
  it('needs no label on a device in the same zone (or one on the same clock then)', () => {
    expect(formatInZone(at, 'Europe/Istanbul', 'tr-TR', undefined, 'Europe/Istanbul').zone).toBeNull();
    expect(formatInZone(at, 'Europe/Istanbul', 'tr-TR', undefined, 'Asia/Istanbul').zone).toBeNull();
  });
  it('writes the date in the language', () => {
    expect(formatInZone(at, 'Europe/Istanbul', 'tr-TR', { dateStyle: 'long', timeStyle: 'short' }, 'Europe/Istanbul').text).toBe(
      '8 Mart 2026 19:00',
    );
  });
});
