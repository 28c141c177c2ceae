import { describe, expect, it } from 'vitest';
import { formatMoney, fromCents, toCents } from './money';

describe('money for people', () => {
  it('reads lira the Turkish way in Turkish', () => {
    expect(formatMoney('1500.00', 'TRY', 'tr-TR')).toBe('₺1.500,00');
    expect(formatMoney('300', 'TRY', 'tr-TR')).toBe('₺300,00');
    expect(formatMoney(149_90, 'TRY', 'tr-TR')).toBe('₺149,90');
  });

  it('shows ₺ (not "TRY") in English too', () => {
    expect(formatMoney('1500.00', 'TRY', 'en-GB')).toBe('₺1,500.00');
    expect(formatMoney('600', 'TRY', 'en-GB')).toBe('₺600.00');
  });

  it("follows the deployment's currency", () => {
    expect(formatMoney('1500.00', 'EUR', 'tr-TR')).toBe('€1.500,00');
    expect(formatMoney('1500.00', 'USD', 'en-GB')).toBe('$1,500.00');
  });

  it('keeps amounts in cents', () => {
    expect(toCents('1500.5')).toBe(150_050);
    expect(fromCents(150_050)).toBe('1500.50');
  });
});
