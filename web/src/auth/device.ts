// Device tokens (SPEC: login throttling; OWASP "device cookies"): each sign-in
// answers one, and sending it back with later logins to the same account
// proves this browser signed in to it before, so a stranger's guesses
// elsewhere never lock the owner out here. Kept in localStorage per account
// (a shared computer may sign in to several) and, unlike the session, kept
// when signing out.
import type { KeyValue } from './session';

export const DEVICES_KEY = 'hothour.devices';

/** The account's key as the server normalises a login email. */
function account(email: string): string {
  return email.trim().toLowerCase();
}

function load(storage: KeyValue): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(DEVICES_KEY) ?? '{}');
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** The device token this browser holds for the account of `email`, if any. */
export function deviceTokenFor(storage: KeyValue, email: string): string | undefined {
  const token = load(storage)[account(email)];
  return typeof token === 'string' ? token : undefined;
}

/** Keeps the device token a sign-in answered (login or register), if it carries one. */
export function rememberDevice(storage: KeyValue, email: string, answer: object): void {
  if (!('device_token' in answer) || typeof answer.device_token !== 'string') return;
  const devices = load(storage);
  devices[account(email)] = answer.device_token;
  storage.setItem(DEVICES_KEY, JSON.stringify(devices));
}
