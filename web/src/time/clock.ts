// Server time. Countdowns are measured against the server's clock, not the
// device's: the offset comes from `GET /api/v1/config`'s `server_time`, else
// from the `Date` header of any same-origin answer (whole seconds), and is
// refined by the WebSocket's `pong` (half the round trip is the best guess).

export type Source = 'none' | 'date-header' | 'config' | 'pong';
const rank: Record<Source, number> = { none: 0, 'date-header': 1, config: 2, pong: 3 };

export class ServerClock {
  private offset = 0;
  private source: Source = 'none';
  private bestRoundTrip = Infinity;

  constructor(private readonly deviceNow: () => number = Date.now) {}

  now(): number {
    return this.deviceNow() + this.offset;
  }

  get offsetMs(): number {
    return this.offset;
  }

  get syncedBy(): Source {
    return this.source;
  }

  /** A server instant seen between device instants `sentAt` and `receivedAt`. */
  observe(serverTime: number, sentAt: number, receivedAt: number, source: Source): void {
    if (!Number.isFinite(serverTime)) return;
    const roundTrip = Math.max(0, receivedAt - sentAt);
    // A `Date` header is truncated to the second: it only ever fills in for nothing better.
    if (rank[source] < rank[this.source]) return;
    if (source === this.source && roundTrip > this.bestRoundTrip) return;
    const precision = source === 'date-header' ? 500 : 0;
    this.offset = serverTime + precision + roundTrip / 2 - receivedAt;
    this.source = source;
    this.bestRoundTrip = roundTrip;
  }
}

export const serverClock = new ServerClock();
