import { describe, expect, it } from 'vitest';
import { tokenOf } from './token';

describe('an emailed link token', () => {
  it('is read from the query, trimmed, and absent when empty', () => {
    expect(tokenOf('mt_abc')).toBe('mt_abc');
    expect(tokenOf([' mt_abc ', 'mt_other'])).toBe('mt_abc');
    expect(tokenOf('')).toBeNull();
    expect(tokenOf(undefined)).toBeNull();
    expect(tokenOf(null)).toBeNull();
  });
});
