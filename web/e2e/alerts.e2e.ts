// Price alerts in the browser (issue 24): on a Turkish phone, "tell me under
// ₺…" on an auction's page, then the price steps below it (the auction's
// own schedule, one drop a minute, timed to step a few seconds after the
// page opens) and the notice shows up; the account page lists alerts with
// remove and the mail preferences; the unsubscribe link's page asks, then
// stops that kind of email. axe finds nothing serious on any of them.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, phone, sidewaysOverflow } from './harness';
import tr from '../src/i18n/locales/tr.json';
import en from '../src/i18n/locales/en.json';

const suite = browserSuite('alerts-owner@example.test');

/** An unsubscribe link's token as the service signs it (the harness runs with the development secret). */
function unsubscribeToken(userId: number, kind: 'booking_reminder' | 'price_alert'): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ typ: 'JWT', alg: 'HS256' })}.${part({ sub: String(userId), iat: 0, typ: 'unsubscribe', kind })}`;
  const signature = createHmac('sha256', 'hothour-development-secret-change-me').update(body).digest('base64url');
  return `${body}.${signature}`;
}

describe('price alerts', () => {
  it('tells a phone when the price steps under the amount it set', async () => {
    suite.keepScreenshots('price-alert-fires');
    // 500.00 dropping 50.00 a minute, its first drop due in about twelve seconds.
    const auction = await suite.api.auction(suite.studio.tokens.access_token, {
      title: 'Alarm seansı',
      starts_at: new Date(Date.now() - 48_000).toISOString(),
    });
    const buyer = await suite.api.register('alert-buyer@example.test');
    const page = await (await phone(suite.browser, { tokens: buyer, lang: 'tr' })).newPage();
    await page.goto(`${suite.service.url}/auctions/${auction.id}`);
    await page.getByTestId('price-alert-below').fill('460');
    await page.getByTestId('price-alert-save').click();
    await page.getByTestId('price-alert-set').filter({ hasText: '460,00' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    expect(await sidewaysOverflow(page)).toEqual({ by: 0, widest: [] });

    const notice = page.getByTestId('price-alert-notice');
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.textContent()).toContain(tr.alerts.fired.split(':')[0]!);
    expect(await notice.textContent()).toContain('450,00');
    await page.getByTestId('price-alert-below').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    expect(await suite.api.call('GET', '/me/alerts', buyer.access_token)).toEqual([]);
  });

  it('lists alerts on the account page, removes them, and keeps mail preferences', async () => {
    suite.keepScreenshots('price-alert-account');
    const auction = await suite.api.auction(suite.studio.tokens.access_token, { title: 'Watched slot' });
    const buyer = await suite.api.register('alert-keeper@example.test');
    const alert = await suite.api.call('POST', `/auctions/${auction.id}/alerts`, buyer.access_token, { below: '120.00' });
    const page = await (await phone(suite.browser, { tokens: buyer, lang: 'en', locale: 'en-GB' })).newPage();
    await page.goto(`${suite.service.url}/me`);
    const card = page.getByTestId(`alert-${alert.id}`);
    await card.filter({ hasText: 'Watched slot' }).waitFor();
    await page.getByTestId('mail-price-alert').uncheck();
    await expect.poll(async () => (await suite.api.call('GET', '/me/mail-preferences', buyer.access_token)).price_alert).toBe(false);
    expect(await axeViolations(page)).toEqual([]);
    await card.getByRole('button', { name: en.alerts.removeNamed.replace('{item}', 'Watched slot') }).click();
    await card.waitFor({ state: 'detached' });
    expect(await suite.api.call('GET', '/me/alerts', buyer.access_token)).toEqual([]);

    await page.goto(`${suite.service.url}/unsubscribe?token=${unsubscribeToken(buyer.user.id, 'booking_reminder')}`);
    await page.getByRole('heading', { level: 1, name: en.alerts.unsubscribeTitle }).waitFor();
    expect((await suite.api.call('GET', '/me/mail-preferences', buyer.access_token)).booking_reminder).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByTestId('unsubscribe').click();
    await page.getByTestId('unsubscribed').filter({ hasText: en.alerts.stoppedReminders }).waitFor();
    expect(await suite.api.call('GET', '/me/mail-preferences', buyer.access_token)).toEqual({
      booking_reminder: false,
      price_alert: false,
    });
  });
});
