// Deployment settings from `GET /api/v1/config` (SPEC §8): the server declares
// every limit; the client assumes none (until it is loaded, a limit is null).
// Server time comes from the `Date` header, `/config` and the WebSocket's `pong`.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '../api/client';
import { serverClock } from '../time/clock';
import { ticker } from '../time/ticker';
import type { components } from '../api/schema';

/** How this deployment takes payment: `none` (pay at the studio) or `stripe` (by card before confirming). */
export type PaymentsConfig = components['schemas']['PaymentsConfigOut'];

export const useConfig = defineStore('config', () => {
  const currency = ref('TRY');
  const maxSeatsPerHold = ref<number | null>(null);
  const cancellationCutoffSeconds = ref<number | null>(null);
  /** Null until loaded: the client then neither shows a card form nor says "pay at the studio". */
  const payments = ref<PaymentsConfig | null>(null);

  async function load() {
    const sentAt = Date.now();
    try {
      const { data: config, response } = await api.GET('/api/v1/config');
      const receivedAt = Date.now();
      const date = response.headers.get('date');
      if (date) serverClock.observe(Date.parse(date), sentAt, receivedAt, 'date-header');
      if (!config) return;
      currency.value = config.currency;
      maxSeatsPerHold.value = config.max_seats_per_hold;
      cancellationCutoffSeconds.value = config.cancellation_cutoff_seconds;
      payments.value = config.payments;
      serverClock.observe(Date.parse(config.server_time), sentAt, receivedAt, 'config');
    } catch {
      // Offline for now: no limits are assumed; the socket's pong will set the clock.
    } finally {
      ticker.tick();
    }
  }

  return { currency, maxSeatsPerHold, cancellationCutoffSeconds, payments, load };
});
