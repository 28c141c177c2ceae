import { describe, expect, it, vi } from 'vitest';
import { SessionStore, STORAGE_KEY, type KeyValue, type Lock, type Session } from './session';
import type { Tokens } from '../api/types';

function memory(): KeyValue {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

/** A mutex shared by several "tabs", like navigator.locks. */
function sharedLock(): Lock {
  let tail: Promise<unknown> = Promise.resolve();
  return (_name, task) => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

const user = { id: 1, email: 'a@example.test', full_name: 'A', phone: null, role: 'user' as const, studio_id: null, locale: 'en' as const, email_verified: false };
const session = (n: number): Session => ({ access_token: `access-${n}`, refresh_token: `refresh-${n}`, expires_at: 0, user });
const tokens = (n: number): Tokens => ({ access_token: `access-${n}`, refresh_token: `refresh-${n}`, token_type: 'Bearer', expires_in: 900, user });

function server() {
  // Rotation with reuse detection: a refresh token works once.
  let current = 1;
  const used = new Set<string>();
  const refresh = vi.fn(async (token: string) => {
    await new Promise((r) => setTimeout(r, 5));
    if (used.has(token) || token !== `refresh-${current}`) throw new Error(`reuse of ${token}: family revoked`);
    used.add(token);
    current += 1;
    return tokens(current);
  });
  return { refresh };
}

describe('single-flight refresh', () => {
  it('shares one refresh between concurrent requests in a tab', async () => {
    const storage = memory();
    storage.setItem(STORAGE_KEY, JSON.stringify(session(1)));
    const { refresh } = server();
    const store = new SessionStore({ storage, lock: sharedLock(), refresh });
    const results = await Promise.all(Array.from({ length: 10 }, () => store.refresh('access-1')));
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(new Set(results.map((s) => s?.access_token))).toEqual(new Set(['access-2']));
  });

  it('lets only one tab refresh; the other takes the fresh session', async () => {
    const storage = memory();
    storage.setItem(STORAGE_KEY, JSON.stringify(session(1)));
    const { refresh } = server();
    const lock = sharedLock();
    const tabA = new SessionStore({ storage, lock, refresh });
    const tabB = new SessionStore({ storage, lock, refresh });
    const [a, b] = await Promise.all([tabA.refresh('access-1'), tabB.refresh('access-1')]);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(a?.access_token).toBe('access-2');
    expect(b?.access_token).toBe('access-2');
  });

  it('signs out when the server refuses the refresh token', async () => {
    const storage = memory();
    storage.setItem(STORAGE_KEY, JSON.stringify(session(1)));
    const changes: (Session | null)[] = [];
    const store = new SessionStore({ storage, lock: sharedLock(), refresh: async () => null, onChange: (s) => changes.push(s) });
    expect(await store.refresh('access-1')).toBeNull();
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
    expect(changes).toEqual([null]);
  });

  it('keeps the session when the server cannot be reached', async () => {
    const storage = memory();
    storage.setItem(STORAGE_KEY, JSON.stringify(session(1)));
    const store = new SessionStore({ storage, lock: sharedLock(), refresh: async () => { throw new Error('offline'); } });
    await expect(store.refresh('access-1')).rejects.toThrow('offline');
    expect(store.load()?.refresh_token).toBe('refresh-1');
  });
});
