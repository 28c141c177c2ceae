// Deployment settings from `GET /api/v1/config` (SPEC §8). Until the contract
// serves it (issue 10), the defaults below stand in and server time comes
// from the `Date` header and the WebSocket's `pong`.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { API_BASE } from '../api/client';
import type { PublicConfig } from '../api/types';
import { serverClock } from '../time/clock';
import { ticker } from '../time/ticker';

export const useConfig = defineStore('config', () => {
  const currency = ref('TRY');
  const holdTtlSeconds = ref(300);
  const maxSeatsPerHold = ref(10);

  async function load() {
    const sentAt = Date.now();
    try {
      // Plain fetch: the path is not in today's document. TODO(contract): api.GET('/config').
      const response = await fetch(`${API_BASE}/config`);
      const receivedAt = Date.now();
      const date = response.headers.get('date');
      if (date) serverClock.observe(Date.parse(date), sentAt, receivedAt, 'date-header');
      if (!response.ok) return;
      const config = (await response.json()) as Partial<PublicConfig>;
      if (config.currency) currency.value = config.currency;
      if (config.hold_ttl_seconds) holdTtlSeconds.value = config.hold_ttl_seconds;
      if (config.max_seats_per_hold) maxSeatsPerHold.value = config.max_seats_per_hold;
      if (config.server_time) serverClock.observe(Date.parse(config.server_time), sentAt, receivedAt, 'config');
    } catch {
      // Offline for now: the defaults stand, the socket's pong will set the clock.
    } finally {
      ticker.tick();
    }
  }

  return { currency, holdTtlSeconds, maxSeatsPerHold, load };
});
