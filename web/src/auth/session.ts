// The signed-in session, kept in localStorage so every tab shares it.
//
// Refresh tokens rotate and a reused one revokes the whole family (SPEC §7),
// so two refreshes racing with the same token would sign the user out. One
// refresh at a time: in this tab through one shared promise, across tabs under
// a Web Lock; whoever gets the lock first re-reads the stored session and
// only refreshes when nobody already did.
import type { Tokens, User } from '../api/types';

export interface Session {
  access_token: string;
  refresh_token: string;
  /** Device ms when the access token expires (refreshed a little before). */
  expires_at: number;
  user: User;
}

export interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export type Lock = <T>(name: string, task: () => Promise<T>) => Promise<T>;

export const STORAGE_KEY = 'hothour.session';

export function sessionFromTokens(tokens: Tokens, deviceNow = Date.now()): Session {
  return {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_at: deviceNow + tokens.expires_in * 1000,
    user: tokens.user,
  };
}

/** A Web Lock where the browser has them (every current one); else this tab only. */
export const webLock: Lock = (name, task) =>
  typeof navigator !== 'undefined' && navigator.locks
    ? (navigator.locks.request(name, task) as Promise<Awaited<ReturnType<typeof task>>>)
    : task();

export interface SessionStoreDeps {
  storage: KeyValue;
  lock: Lock;
  /** POST /api/v1/auth/refresh: the new tokens, `null` when refused (401), throws when unreachable. */
  refresh: (refreshToken: string) => Promise<Tokens | null>;
  onChange?: (session: Session | null) => void;
}

export class SessionStore {
  private inFlight: Promise<Session | null> | null = null;

  constructor(private readonly deps: SessionStoreDeps) {}

  load(): Session | null {
    const raw = this.deps.storage.getItem(STORAGE_KEY);
    if (!raw) return null;
    try {
      return JSON.parse(raw) as Session;
    } catch {
      return null;
    }
  }

  save(session: Session | null): void {
    if (session) this.deps.storage.setItem(STORAGE_KEY, JSON.stringify(session));
    else this.deps.storage.removeItem(STORAGE_KEY);
    this.deps.onChange?.(session);
  }

  /**
   * A session whose access token is not `stale` (the one an answer just
   * refused, or the one about to expire): another tab's fresh one if it already
   * refreshed, else one refresh shared by every caller.
   */
  refresh(stale: string): Promise<Session | null> {
    if (!this.inFlight) {
      this.inFlight = this.deps.lock('hothour.refresh', () => this.refreshLocked(stale)).finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  private async refreshLocked(stale: string): Promise<Session | null> {
    const current = this.load();
    if (!current) return null;
    if (current.access_token !== stale) return current;
    const tokens = await this.deps.refresh(current.refresh_token);
    const next = tokens ? sessionFromTokens(tokens) : null;
    this.save(next);
    return next;
  }
}
