// The typed client (openapi-fetch over the generated `paths`), with what every
// call needs: the access token, one shared refresh on 401, `Retry-After`
// honoured on 429/503 for requests that are safe to repeat, and server time
// read from each answer's `Date` header (same origin: the binary serves the SPA).
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';
import type { Problem, Tokens } from './types';
import { ApiError } from './errors';
import { SessionStore, webLock, type Session } from '../auth/session';
import { serverClock } from '../time/clock';

export const API_BASE = '/api/v1';
/** The longest `Retry-After` waited out silently before telling the person. */
const MAX_SILENT_WAIT_S = 10;
const MAX_RETRIES = 2;

async function postRefresh(refreshToken: string): Promise<Tokens | null> {
  const response = await fetch(`${API_BASE}/auth/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  if (response.status === 401 || response.status === 422) return null;
  if (!response.ok) throw new ApiError(response.status, 'unavailable');
  return (await response.json()) as Tokens;
}

const listeners = new Set<(session: Session | null) => void>();
export function onSessionChange(listener: (session: Session | null) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const sessions = new SessionStore({
  storage: globalThis.localStorage,
  lock: webLock,
  refresh: postRefresh,
  onChange: (session) => listeners.forEach((l) => l(session)),
});

/** The access token to send now, refreshed first when it is about to expire. */
export async function accessToken(): Promise<string | null> {
  const session = sessions.load();
  if (!session) return null;
  if (session.expires_at - 30_000 > Date.now()) return session.access_token;
  return (await sessions.refresh(session.access_token))?.access_token ?? null;
}

export function retryAfterSeconds(response: Response): number | null {
  const header = response.headers.get('retry-after');
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** GETs, and POSTs carrying an Idempotency-Key or confirming (idempotent by itself). */
function safeToRepeat(request: Request): boolean {
  return request.method === 'GET' || request.headers.has('idempotency-key') || request.url.endsWith('/confirm');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Pending {
  copy: Request;
  sentAt: number;
  token: string | null;
}
const pending = new Map<string, Pending>();

/**
 * Whether a request to `path` is a sign-in of its own (no access token sent):
 * the public `/auth/` routes. Signing out and resending the verification are
 * `/auth/` routes of a signed-in person: they carry the access token.
 */
export function signsIn(path: string): boolean {
  if (!path.startsWith(`${API_BASE}/auth/`)) return false;
  const signedIn = ['verify/resend', 'logout', 'logout-all'];
  return !signedIn.includes(path.slice(`${API_BASE}/auth/`.length));
}

const middleware: Middleware = {
  async onRequest({ request, id }) {
    const token = signsIn(new URL(request.url, location.origin).pathname) ? null : await accessToken();
    if (token && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
    pending.set(id, { copy: request.clone(), sentAt: Date.now(), token });
    return request;
  },
  async onResponse({ response, id }) {
    const sent = pending.get(id);
    pending.delete(id);
    const date = response.headers.get('date');
    if (sent && date) serverClock.observe(Date.parse(date), sent.sentAt, Date.now(), 'date-header');
    if (!sent) return response;
    let current = response;
    if (current.status === 401 && sent.token) {
      const session = await sessions.refresh(sent.token);
      if (!session) return current;
      const retry = sent.copy.clone();
      retry.headers.set('authorization', `Bearer ${session.access_token}`);
      current = await fetch(retry);
    }
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      if (current.status !== 429 && current.status !== 503) break;
      const wait = retryAfterSeconds(current);
      if (wait === null || wait > MAX_SILENT_WAIT_S || !safeToRepeat(sent.copy)) break;
      await sleep(wait * 1000);
      const retry = sent.copy.clone();
      const token = sent.token ? await accessToken() : null;
      if (token) retry.headers.set('authorization', `Bearer ${token}`);
      current = await fetch(retry);
    }
    return current;
  },
};

export const api = createClient<paths>({ baseUrl: '' });
api.use(middleware);

/** The data of a successful answer, else an ApiError in plain words. */
export async function call<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await request;
  } catch {
    throw new ApiError(0, 'network');
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  const problem = (error && typeof error === 'object' ? error : {}) as Partial<Problem>;
  throw new ApiError(response.status, problem.code ?? `http_${response.status}`, problem, retryAfterSeconds(response));
}

/** A fresh Idempotency-Key: one per tap, so a retried tap replays and a new tap is new. */
export function idempotencyKey(): string {
  // randomUUID needs a secure context; a LAN address over plain HTTP is not one.
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
