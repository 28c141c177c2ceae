import { describe, expect, it } from 'vitest';
import { DEVICES_KEY, deviceTokenFor, rememberDevice } from './device';
import type { KeyValue } from './session';

function memory(): KeyValue {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

describe('device tokens', () => {
  it('are kept per account, as logins normalise the email', () => {
    const storage = memory();
    rememberDevice(storage, 'Ada@Example.test ', { access_token: 'a', device_token: 'device-ada' });
    rememberDevice(storage, 'bob@example.test', { access_token: 'b', device_token: 'device-bob' });
    expect(deviceTokenFor(storage, ' ada@example.TEST')).toBe('device-ada');
    expect(deviceTokenFor(storage, 'bob@example.test')).toBe('device-bob');
    expect(deviceTokenFor(storage, 'cem@example.test')).toBeUndefined();
  });

  it('a newer sign-in replaces the account token; an answer without one keeps it', () => {
    const storage = memory();
    rememberDevice(storage, 'ada@example.test', { device_token: 'first' });
    rememberDevice(storage, 'ada@example.test', { device_token: 'second' });
    rememberDevice(storage, 'ada@example.test', { access_token: 'no device token here' });
    expect(deviceTokenFor(storage, 'ada@example.test')).toBe('second');
  });

  it('survive a corrupt store', () => {
    const storage = memory();
    storage.setItem(DEVICES_KEY, 'not json');
    expect(deviceTokenFor(storage, 'ada@example.test')).toBeUndefined();
    rememberDevice(storage, 'ada@example.test', { device_token: 'fresh' });
    expect(deviceTokenFor(storage, 'ada@example.test')).toBe('fresh');
  });
});
