// A hold lives on the server, not in the page: after a reload (or when holding
// again answers `hold_already_exists`) the page finds it again (SPEC §12).
import { api, call } from './client';
import type { Reservation } from './types';

/** The caller's live hold on this auction or event, if any. */
export async function liveHoldOn(kind: 'auction' | 'event', id: number): Promise<Reservation | null> {
  const page = await call(api.GET('/api/v1/reservations', { params: { query: { status: 'HOLD', limit: 100 } } }));
  const now = Date.now();
  return page.items.find((r) => r.target.kind === kind && r.target.id === id && Date.parse(r.expires_at) > now) ?? null;
}

/** Downloads a reservation's calendar entry (the API wants the bearer token, so a plain link cannot). */
export async function downloadCalendar(id: number): Promise<void> {
  const blob = await call(
    api.GET('/api/v1/reservations/{id}/calendar.ics', { params: { path: { id } }, parseAs: 'blob' }),
  );
  const url = URL.createObjectURL(blob as Blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = `hothour-${id}.ics`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
