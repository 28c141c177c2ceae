// One timer for the whole page. Every card reads the reactive `now` (server
// time, ms); the timer wakes at the next whole second of server time, or
// earlier at the nearest deadline a view asked for (a price step), so 100 live
// auctions cost one timer, not 100.
import { ref, type Ref } from 'vue';
import { serverClock, type ServerClock } from './clock';

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const browserTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class Ticker {
  readonly now: Ref<number>;
  private readonly deadlines = new Set<number>();
  private handle: unknown = null;

  constructor(
    private readonly clock: ServerClock = serverClock,
    private readonly timers: Timers = browserTimers,
  ) {
    this.now = ref(clock.now());
  }

  /** Wake up at server instant `at` (besides every second). */
  wakeAt(at: number | null | undefined): void {
    if (at == null || at <= this.clock.now()) return;
    this.deadlines.add(at);
    if (this.handle !== null) this.schedule();
  }

  start(): void {
    if (this.handle === null) this.tick();
  }

  stop(): void {
    if (this.handle !== null) this.timers.clear(this.handle);
    this.handle = null;
  }

  /** Re-reads the clock at once (after a clock correction, or a frame). */
  tick = (): void => {
    const now = this.clock.now();
    this.now.value = now;
    for (const at of this.deadlines) if (at <= now) this.deadlines.delete(at);
    this.schedule();
  };

  private schedule(): void {
    if (this.handle !== null) this.timers.clear(this.handle);
    const now = this.clock.now();
    let next = Math.floor(now / 1000) * 1000 + 1000;
    for (const at of this.deadlines) next = Math.min(next, at);
    this.handle = this.timers.set(this.tick, Math.max(0, next - now) + 1);
  }
}

export const ticker = new Ticker();

/** "4:05", "1:02:03", "0:00". */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
