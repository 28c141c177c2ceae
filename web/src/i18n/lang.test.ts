import { describe, expect, it } from 'vitest';
import { i18n, preferredLang } from './index';

describe('the language at start', () => {
  it('is Turkish for a tr browser, English otherwise', () => {
    expect(preferredLang(['tr-TR', 'en-US'])).toBe('tr');
    expect(preferredLang(['tr'])).toBe('tr');
    expect(preferredLang(['en-US', 'tr-TR'])).toBe('en');
    expect(preferredLang(['de-DE', 'tr'])).toBe('tr');
    expect(preferredLang(['de-DE', 'fr'])).toBe('en');
    expect(preferredLang([])).toBe('en');
  });

  it('runs the precompiled messages (no compiler in the bundle)', () => {
    const t = i18n.global.t;
    i18n.global.locale.value = 'tr';
    expect(t('auction.grab')).toBe('Hemen Kap');
    expect(t('me.seats', { n: 3 }, 3)).toBe('3 koltuk');
    i18n.global.locale.value = 'en';
    expect(t('me.seats', { n: 1 }, 1)).toBe('1 seat');
    expect(t('me.seats', { n: 3 }, 3)).toBe('3 seats');
    expect(t('time.inZone', { time: '19:00', zone: 'Istanbul' })).toBe('19:00 (Istanbul time)');
  });
});
