// The studio's week from the web client (issue 23): weekly repeats, cancelling
// an event with its bookings, the numbers and their CSV, and a platform admin
// removing a studio's admin; axe and no sideways scroll on the dashboard at
// phone width.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ADMIN, axeViolations, browserSuite, phone, screenshotScreen, sidewaysOverflow } from './harness';
import en from '../src/i18n/locales/en.json';
import tr from '../src/i18n/locales/tr.json';

const STUDIO_ZONE = 'Europe/Istanbul';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const suite = browserSuite('dashboard-owner@example.test');

/** The day ("2026-12-08") instant `at` falls on, on Istanbul's clock. */
const istanbulDay = (at: string | number) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: STUDIO_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(at));
const plusDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
const fill = (template: string, values: Record<string, string | number>) =>
  Object.entries(values).reduce((text, [key, value]) => text.replace(`{${key}}`, String(value)), template);

async function noSidewaysScroll(page: Page, where: string) {
  const overflow = await sidewaysOverflow(page);
  expect(overflow.by, `${where} scrolls sideways: ${overflow.widest.join(', ')}`).toBeLessThanOrEqual(0);
}

const owner = (lang: 'tr' | 'en' = 'en') => phone(suite.browser, { lang, tokens: suite.studio.tokens });

/** A booking confirmed on `eventId` by a new customer: their tokens and the reservation. */
async function booked(eventId: number, email: string, quantity = 1) {
  const buyer = await suite.api.register(email);
  const held = await suite.api.call('POST', `/events/${eventId}/holds`, buyer.access_token, { quantity });
  const reservation = await suite.api.call('POST', `/reservations/${held.id}/confirm`, buyer.access_token);
  return { buyer, reservation };
}

describe("the studio's week from the web client", () => {
  it('repeats a new auction weekly, lists the copies, and deletes only what no one reserved', async () => {
    suite.keepScreenshots('dashboard-repeat');
    const page = await (await owner()).newPage();
    await page.goto(`${suite.service.url}/studio/auctions/new`);
    await page.getByTestId('zone-hint').filter({ hasText: STUDIO_ZONE }).waitFor();
    await page.getByLabel(en.form.title).fill('Weekly salsa');
    const session = await page.getByLabel(en.newAuction.sessionAt).inputValue();
    const until = plusDays(session.slice(0, 10), 14);
    await page.getByTestId('repeat-until').fill(until);
    await page.getByRole('button', { name: en.newAuction.submit }).click();
    await page.waitForURL(/\/studio\?kind=auctions$/);
    await page.getByTestId('notice').filter({ hasText: fill(en.catalogue.repeated, { item: 'Weekly salsa', n: 3, until }) }).waitFor();
    const listed = await suite.api.call('GET', `/auctions?studio_id=${suite.studio.studioId}&limit=100`);
    const copies = listed.items.filter((a: any) => a.title === 'Weekly salsa');
    expect(copies).toHaveLength(3);
    for (const copy of copies) await page.getByTestId(`studio-auction-${copy.id}`).getByRole('link', { name: 'Weekly salsa', exact: true }).waitFor();
    const days = copies.map((a: any) => istanbulDay(a.scheduled_at)).sort();
    expect(days).toEqual([session.slice(0, 10), plusDays(session.slice(0, 10), 7), until]);

    // A date too far ahead: the server's words under the field, nothing listed.
    await page.goto(`${suite.service.url}/studio/auctions/new`);
    await page.getByTestId('zone-hint').filter({ hasText: STUDIO_ZONE }).waitFor();
    await page.getByLabel(en.form.title).fill('Too many');
    await page.getByTestId('repeat-until').fill(plusDays(session.slice(0, 10), 7 * 60));
    await page.getByRole('button', { name: en.newAuction.submit }).click();
    await page.getByTestId('error-repeat.until').waitFor();
    expect(await page.getByTestId('repeat-until').getAttribute('aria-invalid')).toBe('true');
    const after = await suite.api.call('GET', `/auctions?studio_id=${suite.studio.studioId}&limit=100`);
    expect(after.items.filter((a: any) => a.title === 'Too many')).toEqual([]);

    // Delete asks first and takes an unreserved copy away.
    const first = copies[0];
    await page.goto(`${suite.service.url}/studio?kind=auctions`);
    await page.getByTestId(`delete-auction-${first.id}`).click();
    await page.getByTestId('confirm-dialog').getByRole('button', { name: en.confirm.deleteAuctionYes }).click();
    await page.getByTestId(`studio-auction-${first.id}`).waitFor({ state: 'detached' });
    const gone = await fetch(`${suite.service.url}/api/v1/auctions/${first.id}`);
    expect(gone.status).toBe(404);

    // One someone once held stays, and the page says why in words.
    const once = await suite.api.auction(suite.studio.tokens.access_token, { title: 'Once held' });
    const holder = await suite.api.register('once-held@example.test');
    const hold = await suite.api.call('POST', `/auctions/${once.id}/grab`, holder.access_token);
    await suite.api.call('POST', `/reservations/${hold.id}/cancel`, holder.access_token);
    await page.reload();
    await page.getByTestId(`delete-auction-${once.id}`).click();
    await page.getByTestId('confirm-dialog').getByRole('button', { name: en.confirm.deleteAuctionYes }).click();
    await page.getByRole('alert').filter({ hasText: en.problem.auction_has_reservations }).waitFor();
    expect(await page.getByTestId(`studio-auction-${once.id}`).count()).toBe(1);

    // One deleted elsewhere leaves the open catalogue at once (its `auction_deleted` frame).
    const second = copies[1];
    await page.getByTestId(`studio-auction-${second.id}`).waitFor();
    await suite.api.call('DELETE', `/auctions/${second.id}`, suite.studio.tokens.access_token);
    await page.getByTestId(`studio-auction-${second.id}`).waitFor({ state: 'detached' });
  });

  it("cancels an event with a booking: the customer's booking is cancelled too", async () => {
    suite.keepScreenshots('dashboard-cancel-event');
    const token = suite.studio.tokens.access_token;
    const event = await suite.api.event(token, { title: 'Rooftop yoga' });
    const { buyer, reservation } = await booked(event.id, 'cancelled-buyer@example.test');
    const page = await (await owner()).newPage();
    await page.goto(`${suite.service.url}/studio?kind=events`);
    const row = page.getByTestId(`studio-event-${event.id}`);
    const dialog = page.getByTestId('confirm-dialog');
    await row.getByRole('button', { name: fill(en.catalogue.cancelEventNamed, { item: 'Rooftop yoga' }) }).click();
    await dialog.getByRole('heading', { name: en.confirm.cancelEventTitle }).waitFor();
    await dialog.getByRole('button', { name: en.confirm.keep }).click();
    expect((await suite.api.call('GET', `/reservations/${reservation.id}`, buyer.access_token)).status).toBe('CONFIRMED');

    await row.getByRole('button', { name: fill(en.catalogue.cancelEventNamed, { item: 'Rooftop yoga' }) }).click();
    await dialog.getByRole('button', { name: en.confirm.cancelEventYes }).click();
    await page.getByTestId('notice').filter({ hasText: fill(en.catalogue.eventCancelled, { item: 'Rooftop yoga' }) }).waitFor();
    await row.getByTestId('status').filter({ hasText: en.catalogue.cancelledEvent }).waitFor();
    expect(await page.getByTestId(`cancel-event-${event.id}`).count()).toBe(0);
    expect((await suite.api.call('GET', `/reservations/${reservation.id}`, buyer.access_token)).status).toBe('CANCELLED');
    expect((await suite.api.call('GET', `/events/${event.id}`, token)).cancelled_at).not.toBeNull();
  });

  it("shows a confirmed booking in the numbers and downloads the range's CSV", async () => {
    suite.keepScreenshots('dashboard-numbers');
    const token = suite.studio.tokens.access_token;
    const starts = Date.now() + 3 * DAY;
    const event = await suite.api.event(token, {
      title: 'Tango night', capacity: 8, price: '120.00',
      starts_at: new Date(starts).toISOString(), ends_at: new Date(starts + HOUR).toISOString(),
    });
    await booked(event.id, 'numbers-buyer@example.test', 2);
    const day = istanbulDay(starts);

    const page = await (await owner()).newPage();
    await page.goto(`${suite.service.url}/studio`);
    await page.getByRole('navigation', { name: en.studio.nav }).getByRole('link', { name: en.title.dashboard }).click();
    await page.waitForURL(/\/studio\/dashboard$/);
    await page.getByRole('heading', { level: 1, name: en.title.dashboard }).waitFor();
    // This week on the studio's clock, Monday to Sunday.
    await expect.poll(() => page.getByTestId('range-from').inputValue()).not.toBe('');
    const from = await page.getByTestId('range-from').inputValue();
    expect(new Date(`${from}T00:00:00Z`).getUTCDay()).toBe(1);
    expect(await page.getByTestId('range-to').inputValue()).toBe(plusDays(from, 6));
    const today = istanbulDay(Date.now());
    expect(from <= today && today <= plusDays(from, 6)).toBe(true);

    await page.getByTestId('range-from').fill(day);
    await page.getByTestId('range-to').fill(day);
    await page.getByRole('button', { name: en.dashboard.show }).click();
    // The week loaded first may hold the same day until the one-day range answers.
    await expect.poll(() => page.getByTestId('daily-table').locator('tbody tr').count()).toBe(1);
    await page.getByTestId(`day-${day}`).waitFor();
    await page.getByTestId('total-revenue').filter({ hasText: '240.00' }).waitFor();
    expect(await page.getByTestId('total-seats').textContent()).toBe(fill(en.dashboard.seatsValue, { sold: 2, capacity: 8, ratio: '25%' }));
    expect(await page.getByTestId('total-no-show').textContent()).toContain('—');
    expect(await page.getByTestId(`day-${day}`).textContent()).toContain('240.00');
    // The chart draws one bar per day, the best day full height.
    expect(await page.getByTestId('revenue-chart').locator('rect').count()).toBe(1);
    await noSidewaysScroll(page, '/studio/dashboard');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-csv').click()]);
    expect(download.suggestedFilename()).toBe(`hothour-reservations-${day}-${day}.csv`);
    const bytes = readFileSync((await download.path())!);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    expect(text.startsWith('reservation_id,booking_code,status,kind,title,session_starts_at,holder_name,holder_email,quantity,')).toBe(true);
    expect(text).toContain('Tango night');
  });

  it("lets a platform admin remove a studio's admin", async () => {
    suite.keepScreenshots('dashboard-remove-admin');
    const other = await suite.api.studio('removable-admin@example.test');
    const userId = other.tokens.user.id;
    const platform = await suite.api.login(ADMIN.email, ADMIN.password);
    const page = await (await phone(suite.browser, { lang: 'en', tokens: platform })).newPage();
    await page.goto(`${suite.service.url}/admin/studios/${other.studioId}`);
    const row = page.getByTestId(`admin-${userId}`);
    await row.getByText('removable-admin (removable-admin@example.test)').waitFor();
    await row.getByRole('button', { name: fill(en.admin.removeNamed, { name: 'removable-admin' }) }).click();
    await page.getByTestId('confirm-dialog').getByRole('button', { name: en.confirm.removeAdminYes }).click();
    await row.waitFor({ state: 'detached' });
    await page.getByTestId('no-admins').waitFor();
    expect((await suite.api.call('GET', `/studios/${other.studioId}/admins`, platform.access_token)).items).toEqual([]);
    // Their old token no longer reads the studio's numbers (a studio not theirs reads as missing).
    const refused = await fetch(`${suite.service.url}/api/v1/studios/${other.studioId}/stats?from=2026-01-01&to=2026-01-02`, {
      headers: { authorization: `Bearer ${other.tokens.access_token}` },
    });
    expect([401, 403, 404]).toContain(refused.status);
  });

  // Axe on one store (SQLite), as the other suites do; the flows above run on both.
  it.skipIf(process.env.HOTHOUR_TEST_STORE === 'postgres')('fits the dashboard in 360 px with no accessibility violations, in both languages', async () => {
    const problems: string[] = [];
    for (const lang of ['tr', 'en'] as const) {
      suite.keepScreenshots(`dashboard-${lang}`);
      const words = lang === 'tr' ? tr : en;
      const page = await (await owner(lang)).newPage();
      await page.goto(`${suite.service.url}/studio/dashboard`);
      await page.getByRole('heading', { level: 2, name: words.dashboard.daily }).waitFor();
      expect(await page.evaluate(() => document.documentElement.lang)).toBe(lang);
      const overflow = await sidewaysOverflow(page);
      if (overflow.by > 0) problems.push(`${lang}: scrolls sideways by ${overflow.by}px (${overflow.widest.join(', ')})`);
      problems.push(...(await axeViolations(page)).map((v) => `${lang} dashboard: ${v}`));
      await screenshotScreen(page, `phone-${lang}-dashboard`);
      await page.context().close();
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
