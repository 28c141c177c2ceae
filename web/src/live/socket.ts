// One WebSocket per tab for every live room. It reconnects with exponential
// back-off (with jitter, capped), and on reconnect re-subscribes each room
// with `since` = the last `seq` it saw, so the server replays what was missed
// (or sends a fresh snapshot when it cannot).
import type { ClientOp, ServerFrame } from './frames';
import type { ServerClock } from '../time/clock';

export interface RoomHandler {
  /** The room's state now (first subscribe, or when a replay was not possible). */
  snapshot?(data: unknown): void;
  /** An event of the room, in order. */
  event(type: string, data: unknown, frame: { seq?: number; at: string }): void;
  /** The server refused the room (e.g. `forbidden`, `not_found`). */
  refused?(code: string, detail?: string): void;
}

interface RoomState {
  handlers: Set<RoomHandler>;
  since: number | null;
  epoch: number | null;
}

export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface LiveDeps {
  connect: () => SocketLike;
  clock?: ServerClock;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  random?: () => number;
  /** The access token for private rooms, or null when signed out. */
  token?: () => Promise<string | null>;
  /** The server ended the session behind the private rooms: refresh, then `authenticate` again. */
  onSessionEnded?: () => void;
  onStatus?: (connected: boolean) => void;
}

const OPEN = 1;
const PING_EVERY_MS = 25_000;

export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(30_000, 500 * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class LiveSocket {
  private readonly rooms = new Map<string, RoomState>();
  private socket: SocketLike | null = null;
  private attempt = 0;
  private reconnectTimer: unknown = null;
  private pingTimer: unknown = null;
  private pingSentAt = 0;
  private closed = false;
  connected = false;

  constructor(private readonly deps: LiveDeps) {}

  private get setTimer() {
    return this.deps.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  }
  private get clearTimer() {
    return this.deps.clearTimer ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  /** Joins `room`; the returned function leaves it. */
  join(room: string, handler: RoomHandler): () => void {
    let state = this.rooms.get(room);
    if (!state) {
      state = { handlers: new Set(), since: null, epoch: null };
      this.rooms.set(room, state);
      this.send({ op: 'subscribe', room });
    }
    state.handlers.add(handler);
    this.open();
    return () => this.leave(room, handler);
  }

  /** The last sequence number seen in `room` (what a resume sends as `since`). */
  sinceOf(room: string): number | null {
    return this.rooms.get(room)?.since ?? null;
  }

  /** Sends a fresh token (after sign-in or a refresh); private rooms need one. */
  async authenticate(): Promise<void> {
    const token = await this.deps.token?.();
    if (token) this.send({ op: 'auth', token });
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer !== null) this.clearTimer(this.reconnectTimer);
    if (this.pingTimer !== null) this.clearTimer(this.pingTimer);
    this.socket?.close(1000);
    this.socket = null;
  }

  private leave(room: string, handler: RoomHandler): void {
    const state = this.rooms.get(room);
    if (!state) return;
    state.handlers.delete(handler);
    if (state.handlers.size === 0) {
      this.rooms.delete(room);
      this.send({ op: 'unsubscribe', room });
    }
  }

  private send(op: ClientOp): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(op));
  }

  private open(): void {
    if (this.socket || this.closed || this.reconnectTimer !== null) return;
    const socket = this.deps.connect();
    this.socket = socket;
    socket.onopen = () => void this.onOpen();
    socket.onmessage = (message) => this.onMessage(String(message.data));
    socket.onclose = () => this.onClose(socket);
    socket.onerror = () => socket.close();
  }

  private async onOpen(): Promise<void> {
    this.connected = true;
    this.deps.onStatus?.(true);
    // The server handles a socket's ops in order: auth first, so private rooms are admitted.
    await this.authenticate();
    for (const [room, state] of this.rooms) {
      this.send(state.since === null ? { op: 'subscribe', room } : { op: 'subscribe', room, since: state.since });
    }
    this.ping();
  }

  private ping = (): void => {
    this.pingSentAt = Date.now();
    this.send({ op: 'ping' });
    this.pingTimer = this.setTimer(this.ping, PING_EVERY_MS);
  };

  private onClose(socket: SocketLike): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.connected = false;
    this.deps.onStatus?.(false);
    if (this.pingTimer !== null) this.clearTimer(this.pingTimer);
    this.pingTimer = null;
    if (this.closed || this.rooms.size === 0) return;
    const wait = backoffMs(this.attempt++, this.deps.random);
    this.reconnectTimer = this.setTimer(() => {
      this.reconnectTimer = null;
      this.open();
    }, wait);
  }

  private onMessage(text: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'pong':
        this.deps.clock?.observe(Date.parse(frame.at), this.pingSentAt, Date.now(), 'pong');
        return;
      case 'authenticated':
      case 'unsubscribed':
        return;
      case 'session_ended':
        this.deps.onSessionEnded?.();
        return;
      case 'room_closed':
        // The room turned private (a hidden event): to this viewer it no longer exists.
        this.rooms.get(frame.room)?.handlers.forEach((h) => h.refused?.('not_found', frame.data.reason));
        return;
      case 'error': {
        const state = frame.room ? this.rooms.get(frame.room) : undefined;
        state?.handlers.forEach((h) => h.refused?.(frame.code, frame.detail));
        return;
      }
      case 'subscribed': {
        this.attempt = 0;
        const state = this.rooms.get(frame.room);
        if (!state) return;
        state.epoch = frame.epoch;
        // A resume's `seq` is the last of the replayed events that follow: they move `since` themselves.
        if (frame.resumed) return;
        state.since = frame.seq;
        if (frame.data != null) state.handlers.forEach((h) => h.snapshot?.(frame.data));
        return;
      }
      default: {
        const state = this.rooms.get(frame.room);
        if (!state) return;
        // `price_update` carries no `seq`/`epoch`: it is computed on each instance.
        const seq = 'seq' in frame ? frame.seq : undefined;
        if ('seq' in frame) {
          if (state.epoch !== null && frame.epoch !== state.epoch) {
            // Another stream: its sequence numbers mean nothing to ours. Start over from a snapshot.
            state.since = null;
            state.epoch = frame.epoch;
            this.send({ op: 'subscribe', room: frame.room });
            return;
          }
          if (state.since !== null && frame.seq <= state.since) return; // already seen
          state.since = frame.seq;
        }
        state.handlers.forEach((h) => h.event(frame.type, frame.data, { seq, at: frame.at }));
      }
    }
  }
}
