// Money travels as a decimal string with two places ("149.90"). The client
// counts it in integer cents, never in floats.
import { intlLocale } from '../i18n';

export type Cents = number;

/**
 * An amount as the contract's `Money` accepts it (`^0*[0-9]{1,10}(\.[0-9]{1,2}0*)?$`),
 * in cents; anything the server would refuse throws (no sign, no spaces, no exponent).
 */
export function toCents(amount: string): Cents {
  const match = /^0*(\d{1,10})(?:\.(\d{1,2})0*)?$/.exec(amount);
  if (!match) throw new Error(`not an amount: ${amount}`);
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

export function fromCents(cents: Cents): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const formatters = new Map<string, Intl.NumberFormat>();

/**
 * An amount for people: the language's digits and separators, the currency's
 * narrow symbol ("₺1.500,00" in tr-TR, "₺1,500.00" in en-GB). `locale` defaults
 * to the page's language, so a template that calls this follows the switch.
 */
export function formatMoney(amount: string | Cents, currency: string, locale: string = intlLocale.value): string {
  const cents = typeof amount === 'number' ? amount : toCents(amount);
  const key = `${locale} ${currency}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      currencyDisplay: 'narrowSymbol',
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
    formatters.set(key, formatter);
  }
  // Formatting only: the arithmetic stayed in cents.
  return formatter.format(cents / 100);
}
