import { describe, expect, it } from 'vitest';
import { LiveSocket, backoffMs, type SocketLike } from './socket';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close() {
    this.readyState = 3;
    this.onclose?.({});
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const live = new LiveSocket({
    connect: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    setTimer: (fn, ms) => {
      const t = { fn, ms };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      const i = timers.indexOf(h as { fn: () => void; ms: number });
      if (i >= 0) timers.splice(i, 1);
    },
    random: () => 0.5,
    token: async () => 'token-1',
  });
  return { live, sockets, timers };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const ops = (s: FakeSocket) => s.sent.filter((f) => f.op !== 'ping');

describe('the live socket', () => {
  it('subscribes, delivers the snapshot then events in order, dropping ones already seen', async () => {
    const { live, sockets } = harness();
    const seen: string[] = [];
    live.join('auction:1', { snapshot: (d) => seen.push(`snapshot ${JSON.stringify(d)}`), event: (t, _d, f) => seen.push(`${t} ${f.seq}`) });
    sockets[0]!.open();
    await flush();
    expect(ops(sockets[0]!)).toEqual([{ op: 'auth', token: 'token-1' }, { op: 'subscribe', room: 'auction:1' }]);
    sockets[0]!.receive({ type: 'subscribed', room: 'auction:1', seq: 4, epoch: 1, at: 'x', resumed: false, data: { status: 'ACTIVE' } });
    sockets[0]!.receive({ type: 'auction_held', room: 'auction:1', seq: 4, epoch: 1, at: 'x', data: {} });
    sockets[0]!.receive({ type: 'auction_held', room: 'auction:1', seq: 6, epoch: 1, at: 'x', data: {} });
    sockets[0]!.receive({ type: 'price_update', room: 'auction:1', at: 'x', data: {} });
    expect(seen).toEqual(['snapshot {"status":"ACTIVE"}', 'auction_held 6', 'price_update undefined']);
    expect(live.sinceOf('auction:1')).toBe(6);
  });

  it('reconnects with growing back-off and resumes each room with since', async () => {
    const { live, sockets, timers } = harness();
    live.join('event:7', { event: () => undefined });
    sockets[0]!.open();
    await flush();
    sockets[0]!.receive({ type: 'subscribed', room: 'event:7', seq: 10, epoch: 1, at: 'x', resumed: false, data: {} });
    sockets[0]!.receive({ type: 'availability_changed', room: 'event:7', seq: 12, epoch: 1, at: 'x', data: {} });

    sockets[0]!.close();
    const reconnect = timers.find((t) => t.ms === backoffMs(0, () => 0.5))!;
    expect(reconnect).toBeDefined();
    reconnect.fn();
    // The second try fails before opening: the wait grows.
    sockets[1]!.close();
    expect(timers.some((t) => t.ms === backoffMs(1, () => 0.5))).toBe(true);
    expect(backoffMs(1, () => 0.5)).toBeGreaterThan(backoffMs(0, () => 0.5));
    timers.find((t) => t.ms === backoffMs(1, () => 0.5))!.fn();

    sockets[2]!.open();
    await flush();
    expect(ops(sockets[2]!)).toEqual([{ op: 'auth', token: 'token-1' }, { op: 'subscribe', room: 'event:7', since: 12 }]);
    // A resume: no snapshot, the missed events follow.
    const events: number[] = [];
    live.join('event:7', { event: (_t, _d, f) => events.push(f.seq!) });
    sockets[2]!.receive({ type: 'subscribed', room: 'event:7', seq: 15, epoch: 1, at: 'x', resumed: true, data: null });
    sockets[2]!.receive({ type: 'availability_changed', room: 'event:7', seq: 13, epoch: 1, at: 'x', data: {} });
    sockets[2]!.receive({ type: 'availability_changed', room: 'event:7', seq: 15, epoch: 1, at: 'x', data: {} });
    expect(events).toEqual([13, 15]);
  });

  it('caps the back-off', () => {
    expect(backoffMs(20, () => 1)).toBe(30_000);
    expect(backoffMs(0, () => 0)).toBe(250);
  });

  it('tells the room a closed room is not found, and delivers nothing of it as an event', async () => {
    const { live, sockets } = harness();
    const seen: string[] = [];
    live.join('event:7', { event: (t) => seen.push(t), refused: (code, detail) => seen.push(`refused ${code} ${detail}`) });
    sockets[0]!.open();
    await flush();
    sockets[0]!.receive({ type: 'subscribed', room: 'event:7', seq: 3, epoch: 1, at: 'x', resumed: false, data: {} });
    sockets[0]!.receive({ type: 'room_closed', room: 'event:7', data: { reason: 'event_hidden' } });
    expect(seen).toEqual(['refused not_found event_hidden']);
  });

  it('starts over from a snapshot when the stream epoch changed', async () => {
    const { live, sockets } = harness();
    live.join('auction:2', { event: () => undefined });
    sockets[0]!.open();
    await flush();
    sockets[0]!.receive({ type: 'subscribed', room: 'auction:2', seq: 3, epoch: 1, at: 'x', resumed: false, data: {} });
    sockets[0]!.receive({ type: 'auction_held', room: 'auction:2', seq: 1, epoch: 2, at: 'x', data: {} });
    expect(ops(sockets[0]!).at(-1)).toEqual({ op: 'subscribe', room: 'auction:2' });
  });
});
