import { describe, expect, it } from 'vitest';
import { accessTo } from './guard';

describe('who may open a screen', () => {
  it('lets anyone open a public screen', () => {
    expect(accessTo({}, null)).toBe('open');
    expect(accessTo({}, 'user')).toBe('open');
  });

  it('sends a signed-out visitor to sign in first', () => {
    expect(accessTo({ auth: true }, null)).toBe('sign-in');
    expect(accessTo({ studio: true }, null)).toBe('sign-in');
    expect(accessTo({ admin: true }, null)).toBe('sign-in');
  });

  it('keeps customers out of the studio pages, and everyone but platform admins out of /admin', () => {
    expect(accessTo({ studio: true }, 'user')).toBe('board');
    expect(accessTo({ studio: true }, 'studio_admin')).toBe('open');
    expect(accessTo({ studio: true }, 'platform_admin')).toBe('open');
    expect(accessTo({ admin: true }, 'user')).toBe('board');
    expect(accessTo({ admin: true }, 'studio_admin')).toBe('board');
    expect(accessTo({ admin: true }, 'platform_admin')).toBe('open');
  });
});
