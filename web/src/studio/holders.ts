// Who holds a reservation, for the studio's live feed: reservation frames
// carry no name, so the names come from the session's roster (GET
// /studios/{id}/roster), read once per session and again when a frame names
// a reservation it did not list. Lapsed and cancelled reservations are not on
// a roster: their holders stay unnamed.
import { reactive } from 'vue';
import { api, call } from '../api/client';

type Target = { kind: 'auction' | 'event'; id: number };

export function useHolderNames(studioId: () => number | null) {
  const names = reactive(new Map<number, string>());
  const reading = new Map<string, Promise<void>>();

  function read(target: Target): Promise<void> {
    const id = studioId();
    if (!id) return Promise.resolve();
    const key = `${id}:${target.kind}-${target.id}`;
    const running = reading.get(key);
    if (running) return running;
    const query = target.kind === 'auction' ? { auction_id: target.id } : { event_id: target.id };
    const p = call(api.GET('/api/v1/studios/{id}/roster', { params: { path: { id }, query } }))
      .then((roster) => roster.items.forEach((e) => names.set(e.reservation_id, e.full_name)))
      .catch(() => undefined)
      .finally(() => reading.delete(key));
    reading.set(key, p);
    return p;
  }

  /** Learns the name of reservation `reservationId` of `target`, if it is not known yet. */
  async function learn(target: Target, reservationId: number): Promise<void> {
    if (names.has(reservationId)) return;
    await read(target);
    // A roster read before this reservation was made: read it once more.
    if (!names.has(reservationId)) await read(target);
  }

  return { names, learn };
}
