// Files the API serves behind the bearer token: fetched with it, then saved
// through a Blob link (a plain link would go without the token).
import { api, call } from './client';

/** Offers `blob` to the browser as a download named `name`. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The studio's reservations whose sessions fall on `from`..`to` (its days), as a CSV file. */
export async function downloadReservationsCsv(studioId: number, from: string, to: string): Promise<void> {
  const blob = await call(
    api.GET('/api/v1/studios/{id}/reservations.csv', { params: { path: { id: studioId }, query: { from, to } }, parseAs: 'blob' }),
  );
  saveBlob(blob as Blob, `hothour-reservations-${from}-${to}.csv`);
}
