import { describe, expect, it } from 'vitest';
import { amountOf } from './alerts';

describe('amountOf', () => {
  it('reads what people type as the contract money', () => {
    expect(amountOf('150')).toBe('150.00');
    expect(amountOf(' 149,9 ')).toBe('149.90');
    expect(amountOf('149.90')).toBe('149.90');
  });

  it('refuses what the server would', () => {
    for (const bad of ['', '0', '0.00', '-5', 'abc', '1.234', '1e3']) expect(amountOf(bad)).toBeNull();
  });
});
