import { describe, expect, it } from 'vitest';
import { daySpan, spanOver, within } from './days';

const iso = (t: number) => new Date(t).toISOString();
const at = (s: string) => Date.parse(s);
const span = (s: { from: number; to: number } | null) => s && [iso(s.from), iso(s.to)];

describe("the board's days, on the studio's calendar", () => {
  // Wednesday 2026-03-04, 22:30 in Istanbul (UTC+3): 19:30Z.
  const wednesdayEvening = at('2026-03-04T19:30:00Z');

  it('reads today, tomorrow and the rest of the week (to Monday) in Istanbul', () => {
    expect(daySpan('any', wednesdayEvening, 'Europe/Istanbul')).toBeNull();
    expect(span(daySpan('today', wednesdayEvening, 'Europe/Istanbul'))).toEqual(['2026-03-03T21:00:00.000Z', '2026-03-04T21:00:00.000Z']);
    expect(span(daySpan('tomorrow', wednesdayEvening, 'Europe/Istanbul'))).toEqual(['2026-03-04T21:00:00.000Z', '2026-03-05T21:00:00.000Z']);
    expect(span(daySpan('week', wednesdayEvening, 'Europe/Istanbul'))).toEqual(['2026-03-03T21:00:00.000Z', '2026-03-08T21:00:00.000Z']);
  });

  it("is the studio's day, not the device's: 22:30 Wednesday in Istanbul is still Wednesday afternoon in New York", () => {
    expect(span(daySpan('today', wednesdayEvening, 'America/New_York'))).toEqual(['2026-03-04T05:00:00.000Z', '2026-03-05T05:00:00.000Z']);
    // Past Istanbul's midnight (00:30 Thursday there) it is Thursday in Istanbul.
    const later = wednesdayEvening + 2 * 3_600_000;
    expect(span(daySpan('today', later, 'Europe/Istanbul'))?.[0]).toBe('2026-03-04T21:00:00.000Z');
  });

  it('has a 23-hour day when the clocks go forward (New York, 2026-03-08)', () => {
    const sunday = at('2026-03-08T15:00:00Z');
    const today = daySpan('today', sunday, 'America/New_York')!;
    expect(span(today)).toEqual(['2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z']);
    expect(today.to - today.from).toBe(23 * 3_600_000);
    // A Sunday's week is that day alone.
    expect(span(daySpan('week', sunday, 'America/New_York'))).toEqual(span(today));
  });

  it('a Monday starts a whole week', () => {
    const monday = at('2026-03-09T08:00:00Z');
    const week = daySpan('week', monday, 'Europe/Istanbul')!;
    expect(span(week)).toEqual(['2026-03-08T21:00:00.000Z', '2026-03-15T21:00:00.000Z']);
  });

  it('spans several studios: the union of their days; nothing narrowed when none is known', () => {
    const both = spanOver('today', wednesdayEvening, ['Europe/Istanbul', 'America/New_York'])!;
    expect(span(both)).toEqual(['2026-03-03T21:00:00.000Z', '2026-03-05T05:00:00.000Z']);
    expect(spanOver('any', wednesdayEvening, ['Europe/Istanbul'])).toBeNull();
    expect(spanOver('today', wednesdayEvening, [])).toBeNull();
  });

  it('holds an instant when it is in the span (start in, end out)', () => {
    const today = daySpan('today', wednesdayEvening, 'Europe/Istanbul');
    expect(within(today, at('2026-03-03T21:00:00Z'))).toBe(true);
    expect(within(today, at('2026-03-04T20:59:59Z'))).toBe(true);
    expect(within(today, at('2026-03-04T21:00:00Z'))).toBe(false);
    expect(within(null, 0)).toBe(true);
  });
});
