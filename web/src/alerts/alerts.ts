// Price alerts ("tell me under ₺…") and the optional email a person gets
// (reminders, price alerts), over the typed client.
import { ref } from 'vue';
import { api, call } from '../api/client';
import type { components } from '../api/schema';
import { fromCents, toCents } from '../domain/money';
import type { FiredAlertOut } from '../live/frames.generated';

export type PriceAlert = components['schemas']['PriceAlertOut'];
export type FiredAlert = FiredAlertOut;
export type MailPreferences = components['schemas']['MailPreferencesOut'];

/** The amount typed in a form ("150", "149,9", "149.90") as the contract's Money, or null. */
export function amountOf(typed: string): string | null {
  const normal = typed.trim().replace(',', '.');
  try {
    const cents = toCents(normal);
    return cents > 0 ? fromCents(cents) : null;
  } catch {
    return null;
  }
}

export const myAlerts = () => call(api.GET('/api/v1/me/alerts'));

export const createAlert = (auction: number, below: string) =>
  call(api.POST('/api/v1/auctions/{id}/alerts', { params: { path: { id: auction } }, body: { below } }));

export const removeAlert = (id: number) => call(api.DELETE('/api/v1/alerts/{id}', { params: { path: { id } } }));

export const mailPreferences = () => call(api.GET('/api/v1/me/mail-preferences'));

export const setMailPreferences = (changes: Partial<MailPreferences>) =>
  call(api.PATCH('/api/v1/me/mail-preferences', { body: changes }));

/** Stops one kind of email with the token of an email's link (what a mail client's one click does). */
export const unsubscribe = (token: string) =>
  call(api.POST('/api/v1/mail/unsubscribe', { params: { query: { token } } }));

/** Price alerts that fired while this tab was open, newest first (shown as notices). */
export const firedAlerts = ref<FiredAlert[]>([]);

/** Every page that lists alerts drops the fired one. */
export const onFired = new Set<(alert: FiredAlert) => void>();

export function alertFired(alert: FiredAlert): void {
  firedAlerts.value = [alert, ...firedAlerts.value.filter((a) => a.id !== alert.id)].slice(0, 3);
  onFired.forEach((listener) => listener(alert));
}

export function dismiss(id: number): void {
  firedAlerts.value = firedAlerts.value.filter((a) => a.id !== id);
}
