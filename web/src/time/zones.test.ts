import { describe, expect, it } from 'vitest';
import { COMMON_ZONES, zoneChoices } from './zones';

describe('the time zones a studio is given', () => {
  it('puts Istanbul first, then UTC, then the rest in order, once each', () => {
    const choices = zoneChoices(['America/New_York', 'Europe/Istanbul', 'Asia/Tokyo', 'Europe/Berlin', 'Asia/Tokyo']);
    expect(choices).toEqual(['Europe/Istanbul', 'UTC', 'America/New_York', 'Asia/Tokyo', 'Europe/Berlin']);
  });

  it("keeps the studio's own zone second, even when the browser does not list it", () => {
    const choices = zoneChoices(['Europe/Berlin', 'Europe/Istanbul'], 'Asia/Calcutta');
    expect(choices).toEqual(['Europe/Istanbul', 'Asia/Calcutta', 'UTC', 'Europe/Berlin']);
    expect(zoneChoices(['Europe/Berlin'], 'Europe/Istanbul')).toEqual(['Europe/Istanbul', 'UTC', 'Europe/Berlin']);
  });

  it('falls back to the common zones when the browser cannot list them', () => {
    const choices = zoneChoices(null);
    expect(choices[0]).toBe('Europe/Istanbul');
    expect(new Set(choices)).toEqual(new Set(COMMON_ZONES));
    expect(choices).toHaveLength(COMMON_ZONES.length);
  });
});
