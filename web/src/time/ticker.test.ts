import { describe, expect, it } from 'vitest';
import { ServerClock } from './clock';
import { Ticker, formatCountdown, type Timers } from './ticker';
import { livePrice, scheduleOf } from '../domain/pricing';

function fakeTimers() {
  const queue: { fn: () => void; ms: number }[] = [];
  const timers: Timers = {
    set: (fn, ms) => {
      const entry = { fn, ms };
      queue.push(entry);
      return entry;
    },
    clear: (h) => {
      const i = queue.indexOf(h as { fn: () => void; ms: number });
      if (i >= 0) queue.splice(i, 1);
    },
  };
  return { timers, queue };
}

describe('server time', () => {
  it('measures against the server clock, not the device', () => {
    let device = 1_000_000;
    const clock = new ServerClock(() => device);
    // The server is 42 s ahead; the answer took 200 ms to come back.
    clock.observe(1_000_000 + 42_000 + 100, 1_000_000, 1_000_200, 'config');
    device = 1_000_200;
    expect(clock.now()).toBe(1_000_000 + 42_000 + 200);
  });

  it('lets a Date header only fill in for nothing better', () => {
    let device = 0;
    const clock = new ServerClock(() => device);
    clock.observe(10_000, 0, 0, 'pong');
    clock.observe(99_000, 0, 0, 'date-header');
    expect(clock.now()).toBe(10_000);
    expect(clock.syncedBy).toBe('pong');
    device = 5;
    expect(clock.now()).toBe(10_005);
  });

  it('counts down to the next drop in server time', () => {
    let device = Date.parse('2026-06-01T12:09:00Z');
    const clock = new ServerClock(() => device);
    // The device is 30 s slow.
    clock.observe(device + 30_000, device, device, 'pong');
    const s = scheduleOf({
      start_price: '500.00', floor_price: '100.00', drop_amount: '50.00', drop_interval_minutes: 10,
      starts_at: '2026-06-01T12:00:00Z', ends_at: '2026-06-01T14:00:00Z',
    });
    const view = livePrice({ status: 'ACTIVE', current_price: '500.00', next_change_at: '2026-06-01T12:10:00Z' }, s, clock.now());
    expect(formatCountdown(view.nextAt! - clock.now())).toBe('0:30');
    device += 30_000;
    expect(livePrice({ status: 'ACTIVE', current_price: '500.00', next_change_at: '2026-06-01T12:10:00Z' }, s, clock.now()).price).toBe(45000);
  });
});

describe('the shared ticker', () => {
  it('keeps one timer, waking at the next second or an earlier deadline', () => {
    let device = 10_250;
    const clock = new ServerClock(() => device);
    const { timers, queue } = fakeTimers();
    const ticker = new Ticker(clock, timers);
    ticker.start();
    expect(queue).toHaveLength(1);
    expect(queue[0]!.ms).toBe(751);
    for (let i = 0; i < 100; i++) ticker.wakeAt(10_600);
    expect(queue).toHaveLength(1);
    expect(queue[0]!.ms).toBe(351);
    device = 10_601;
    queue[0]!.fn();
    expect(ticker.now.value).toBe(10_601);
    expect(queue).toHaveLength(1);
    expect(queue[0]!.ms).toBe(400);
  });

  it('formats countdowns', () => {
    expect(formatCountdown(65_000)).toBe('1:05');
    expect(formatCountdown(3_723_000)).toBe('1:02:03');
    expect(formatCountdown(-5)).toBe('0:00');
    expect(formatCountdown(100)).toBe('0:01');
  });
});
