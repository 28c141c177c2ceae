import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { livePrice, nextChangeAt, priceAt, scheduleOf, steps } from './pricing';
import { fromCents, toCents } from './money';

const T0 = Date.parse('2026-06-01T12:00:00Z');
const min = (n: number) => T0 + n * 60_000;
const iso = (t: number) => new Date(t).toISOString();

const terms = {
  start_price: '500.00',
  floor_price: '100.00',
  drop_amount: '50.00',
  drop_interval_minutes: 10,
  starts_at: iso(min(0)),
  ends_at: iso(min(120)),
  turbo: { trigger_before_minutes: 30, drop_amount: '20.00', interval_minutes: 5 },
  turbo_started_at: null,
};

describe('money', () => {
  it('round-trips decimal strings through integer cents', () => {
    expect(toCents('149.90')).toBe(14990);
    expect(toCents('7')).toBe(700);
    expect(toCents('0.05')).toBe(5);
    expect(fromCents(14990)).toBe('149.90');
    expect(() => toCents('1.234')).toThrow();
    expect(toCents('1.230')).toBe(123);
    expect(toCents('0009.5')).toBe(950);
  });

  it('refuses what the contract refuses', () => {
    for (const refused of ['-5.00', ' 5.00', '5.00 ', '+5', '1e3', '5.', '.5', '12345678901', 'NaN', '']) {
      expect(() => toCents(refused), refused).toThrow();
    }
    expect(toCents('9999999999.99')).toBe(999_999_999_999);
  });
});

describe('the price schedule', () => {
  const s = scheduleOf(terms);

  it('starts at the start price and steps down at each interval', () => {
    expect(priceAt(s, min(-5))).toBe(50000);
    expect(priceAt(s, min(0))).toBe(50000);
    expect(priceAt(s, min(10) - 1)).toBe(50000);
    expect(priceAt(s, min(10))).toBe(45000);
    expect(nextChangeAt(s, min(0))).toBe(min(10));
    expect(nextChangeAt(s, min(10))).toBe(min(20));
  });

  it('adds turbo drops from ends_at - trigger_before, or from an early trigger', () => {
    // Normal drops: 9 by 95 min (450) -> 50; turbo from 90 min: 1 drop by 95 min.
    expect(priceAt(s, min(95))).toBe(Math.max(10000, 50000 - 9 * 5000 - 2000));
    const early = scheduleOf({ ...terms, turbo_started_at: iso(min(12)) });
    expect(priceAt(early, min(17))).toBe(50000 - 5000 - 2000);
    expect(nextChangeAt(early, min(12))).toBe(min(17));
  });

  it('never falls below the floor and stops changing there', () => {
    const plain = scheduleOf({ ...terms, turbo: null, ends_at: iso(min(1000)) });
    expect(priceAt(plain, min(999))).toBe(10000);
    expect(nextChangeAt(plain, min(80))).toBeNull();
    expect(nextChangeAt(plain, min(70))).toBe(min(80));
  });

  it('is non-increasing and constant between consecutive changes', () => {
    const curve = steps(s);
    for (let i = 1; i < curve.length; i++) {
      expect(curve[i]!.price).toBeLessThan(curve[i - 1]!.price);
      expect(priceAt(s, curve[i]!.at - 1)).toBe(curve[i - 1]!.price);
    }
    expect(curve.at(-1)!.at).toBeLessThan(s.endsAt);
  });
});

describe('the live price against server time', () => {
  const s = scheduleOf(terms);
  const snapshot = { status: 'ACTIVE', current_price: '450.00', next_change_at: iso(min(20)) };

  it("shows the server's price until its next_change_at, then the schedule's", () => {
    expect(livePrice(snapshot, s, min(20) - 1)).toEqual({ price: 45000, nextAt: min(20) });
    expect(livePrice(snapshot, s, min(20))).toEqual({ price: 40000, nextAt: min(30) });
    expect(livePrice(snapshot, s, min(31))).toEqual({ price: 35000, nextAt: min(40) });
  });

  it('keeps a sold price still', () => {
    expect(livePrice({ status: 'SOLD', current_price: '300.00', next_change_at: null }, s, min(50))).toEqual({ price: 30000, nextAt: null });
  });
});

// The worked cases the server's schedule is tested with too (crates/domain/tests/pricing_cases.rs).
interface WorkedCase {
  name: string;
  terms: Parameters<typeof scheduleOf>[0];
  at: { at: string; price: string; next_change_at: string | null }[];
  steps: { at: string; price: string }[];
}
const worked: { cases: WorkedCase[] } = JSON.parse(
  readFileSync(new URL('../../../crates/domain/tests/pricing-cases.json', import.meta.url), 'utf8'),
);

describe('the worked pricing cases the server runs too', () => {
  it('are there', () => expect(worked.cases.length).toBeGreaterThan(5));
  for (const c of worked.cases) {
    it(c.name, () => {
      const s = scheduleOf(c.terms);
      for (const e of c.at) {
        const t = Date.parse(e.at);
        expect(fromCents(priceAt(s, t)), `price at ${e.at}`).toBe(e.price);
        const next = nextChangeAt(s, t);
        expect(next === null ? null : new Date(next).toISOString().replace('.000Z', 'Z'), `next after ${e.at}`).toBe(
          e.next_change_at,
        );
      }
      expect(steps(s).map((step) => ({ at: new Date(step.at).toISOString().replace('.000Z', 'Z'), price: fromCents(step.price) }))).toEqual(
        c.steps,
      );
    });
  }
});
