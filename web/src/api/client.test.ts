import { describe, expect, it } from 'vitest';
import { signsIn } from './client';

describe('signsIn', () => {
  it('sends no access token to the routes that sign in', () => {
    for (const route of ['login', 'register', 'refresh', 'password-reset', 'password-reset/confirm', 'verify']) {
      expect(signsIn(`/api/v1/auth/${route}`), route).toBe(true);
    }
  });

  it('sends the access token where a signed-in person acts (signing out revokes their refresh token)', () => {
    for (const route of ['logout', 'logout-all', 'verify/resend']) {
      expect(signsIn(`/api/v1/auth/${route}`), route).toBe(false);
    }
    expect(signsIn('/api/v1/me')).toBe(false);
  });
});
