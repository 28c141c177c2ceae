import { describe, expect, it } from 'vitest';
import { addDays, formatRatio, revenueBars, thisWeek } from './stats';

describe('the dashboard default range', () => {
  it("is Monday to Sunday of the week on the studio's clock", () => {
    // Sunday 2026-03-29 22:30 UTC is already Monday 01:30 in Istanbul.
    const late = Date.parse('2026-03-29T22:30:00Z');
    expect(thisWeek(late, 'Europe/Istanbul')).toEqual({ from: '2026-03-30', to: '2026-04-05' });
    expect(thisWeek(late, 'America/New_York')).toEqual({ from: '2026-03-23', to: '2026-03-29' });
  });

  it('counts days over month and year ends', () => {
    expect(addDays('2026-12-28', 6)).toBe('2027-01-03');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(thisWeek(Date.parse('2027-01-01T12:00:00Z'), 'UTC')).toEqual({ from: '2026-12-28', to: '2027-01-03' });
  });
});

describe('ratios', () => {
  it('read as percentages in the language, null as a dash', () => {
    expect(formatRatio('0.4567', 'en-GB')).toBe('45.7%');
    expect(formatRatio('0.4567', 'tr-TR')).toBe('%45,7');
    expect(formatRatio('1.0000', 'en-GB')).toBe('100%');
    expect(formatRatio('0.0000', 'en-GB')).toBe('0%');
    expect(formatRatio(null, 'tr-TR')).toBe('—');
  });
});

describe('the revenue chart', () => {
  it('scales the best day to the full height and the others in proportion', () => {
    const bars = revenueBars(
      [
        { date: '2026-03-23', revenue: '200.00' },
        { date: '2026-03-24', revenue: '0.00' },
        { date: '2026-03-25', revenue: '50.00' },
        { date: '2026-03-26', revenue: '0.01' },
      ],
      400,
      100,
    );
    expect(bars.map((b) => b.height)).toEqual([100, 0, 25, 1]);
    expect(bars.map((b) => b.y)).toEqual([0, 100, 75, 99]);
    expect(bars.map((b) => b.x)).toEqual([10, 110, 210, 310]);
    expect(bars.every((b) => b.width === 80)).toBe(true);
    expect(bars[0]!.cents).toBe(20000);
  });

  it('draws nothing tall when nothing sold, and nothing for no days', () => {
    expect(revenueBars([{ date: '2026-03-23', revenue: '0.00' }], 100, 50)[0]!.height).toBe(0);
    expect(revenueBars([], 100, 50)).toEqual([]);
  });
});
