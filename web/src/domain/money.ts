// Money travels as a decimal string with two places ("149.90"). The client
// counts it in integer cents, never in floats.

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

export function formatMoney(amount: string | Cents, currency: string): string {
  const cents = typeof amount === 'number' ? amount : toCents(amount);
  let formatter = formatters.get(currency);
  if (!formatter) {
    formatter = new Intl.NumberFormat('en-GB', { style: 'currency', currency, minimumFractionDigits: 2 });
    formatters.set(currency, formatter);
  }
  // Formatting only: the arithmetic stayed in cents.
  return formatter.format(cents / 100);
}
