// The studio's side on a Turkish phone (360×740, tr-TR, set to New York
// against an Istanbul studio): the catalogue at /studio with edit, duplicate,
// deactivate and delete; /admin, where a platform admin creates a studio and
// makes someone its admin.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ADMIN, axeViolations, browserSuite, phone, screenshotScreen, sidewaysOverflow } from './harness';
import en from '../src/i18n/locales/en.json';
import tr from '../src/i18n/locales/tr.json';

const STUDIO_ZONE = 'Europe/Istanbul';
const HOUR = 3_600_000;
const suite = browserSuite('catalogue-owner@example.test');

/** The `datetime-local` value of an instant on Istanbul's clock ("2026-12-08T19:00"). */
const istanbulLocal = (at: string) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: STUDIO_ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
    .format(new Date(at))
    .replace(' ', 'T');

/** An auction that opens in an hour (a DRAFT until then), its session at a whole minute. */
function draftTimes(hoursAhead = 1) {
  const start = Math.ceil((Date.now() + hoursAhead * HOUR) / 60_000) * 60_000;
  return {
    starts_at: new Date(start).toISOString(),
    ends_at: new Date(start + 2 * HOUR).toISOString(),
    scheduled_at: new Date(start + 3 * HOUR).toISOString(),
  };
}

async function noSidewaysScroll(page: Page, where: string) {
  const overflow = await sidewaysOverflow(page);
  expect(overflow.by, `${where} scrolls sideways: ${overflow.widest.join(', ')}`).toBeLessThanOrEqual(0);
}

const owner = () => phone(suite.browser, { tokens: suite.studio.tokens });

describe("the studio's catalogue on a Turkish phone", () => {
  it('lets an admin edit an upcoming auction, with the same messages as create, and shows the change', async () => {
    suite.keepScreenshots('catalogue-edit');
    const token = suite.studio.tokens.access_token;
    const draft = await suite.api.auction(token, { title: 'Taslak seans', ...draftTimes(), starts_at: new Date(Date.now() + HOUR + 30_250).toISOString() });
    const running = await suite.api.auction(token, { title: 'Süren seans' });
    const page = await (await owner()).newPage();
    await page.goto(`${suite.service.url}/studio?kind=auctions`);
    const row = page.getByTestId(`studio-auction-${draft.id}`);
    expect(await row.getByTestId('status').textContent()).toBe(tr.status.auction.DRAFT);
    // Only an auction that has not opened can be edited.
    await page.getByTestId(`studio-auction-${running.id}`).waitFor();
    expect(await page.getByTestId(`edit-auction-${running.id}`).count()).toBe(0);
    await noSidewaysScroll(page, '/studio');

    await row.getByRole('link', { name: `${tr.catalogue.edit}: “Taslak seans”` }).click();
    await page.waitForURL(/\/studio\/auctions\/\d+\/edit$/);
    await page.getByRole('heading', { level: 1, name: tr.title.editAuction }).waitFor();
    const title = page.getByLabel(tr.form.title);
    await expect.poll(() => title.inputValue()).toBe('Taslak seans');
    // The times read on the studio's clock, not the phone's (New York).
    expect(await page.getByLabel(tr.newAuction.sessionAt).inputValue()).toBe(istanbulLocal(draft.scheduled_at));

    // A floor above the start: the server's words, under the field, as a create gets them.
    await page.getByLabel(tr.newAuction.floorPrice).fill('900.00');
    await page.getByRole('button', { name: tr.catalogue.save }).click();
    await page.getByTestId('error-floor_price').waitFor();
    const refused = await fetch(`${suite.service.url}/api/v1/auctions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ ...draftTimes(), title: 'x', start_price: '500.00', floor_price: '900.00', drop_amount: '50.00', drop_interval_minutes: 10 }),
    }).then((r) => r.json());
    expect(await page.getByTestId('error-floor_price').textContent()).toBe(refused.errors.floor_price[0]);
    expect(await page.getByLabel(tr.newAuction.floorPrice).getAttribute('aria-invalid')).toBe('true');
    await noSidewaysScroll(page, '/studio/auctions/:id/edit with errors');

    await page.getByLabel(tr.newAuction.floorPrice).fill('100.00');
    await title.fill('Düzenlenmiş seans');
    await page.getByRole('button', { name: tr.catalogue.save }).click();
    await page.waitForURL(/\/studio$/);
    await page.getByTestId('notice').filter({ hasText: 'Düzenlenmiş seans' }).waitFor();
    await row.getByRole('link', { name: 'Düzenlenmiş seans', exact: true }).waitFor();
    const stored = await suite.api.call('GET', `/auctions/${draft.id}`);
    expect(stored.title).toBe('Düzenlenmiş seans');
    // Only the title was sent: the opening time keeps its seconds.
    expect(stored.starts_at).toBe(draft.starts_at);
  });

  it('deactivates an event, finds it among the inactive ones, and deletes it; a booked one says why it stays', async () => {
    suite.keepScreenshots('catalogue-events');
    const token = suite.studio.tokens.access_token;
    const free = await suite.api.event(token, { title: 'Boş etkinlik' });
    const booked = await suite.api.event(token, { title: 'Dolu etkinlik' });
    const buyer = await suite.api.register('catalogue-buyer@example.test');
    const held = await suite.api.call('POST', `/events/${booked.id}/holds`, buyer.access_token, { quantity: 1 });
    await suite.api.call('POST', `/reservations/${held.id}/confirm`, buyer.access_token);

    const page = await (await owner()).newPage();
    await page.goto(`${suite.service.url}/studio?kind=events`);
    const row = page.getByTestId(`studio-event-${free.id}`);
    expect(await row.getByTestId('status').textContent()).toBe(tr.catalogue.eventStatus.active);
    await row.getByRole('button', { name: `${tr.catalogue.deactivate}: “Boş etkinlik”` }).click();
    await row.getByTestId('status').filter({ hasText: tr.catalogue.eventStatus.inactive }).waitFor();
    expect((await suite.api.call('GET', `/events/${free.id}`, token)).is_active).toBe(false);

    // The status filter lists it with the inactive ones, and not with the active ones.
    await page.getByTestId('filter-status').selectOption('inactive');
    await page.waitForURL(/status=inactive/);
    await page.getByTestId(`studio-event-${booked.id}`).waitFor({ state: 'detached' });
    await row.waitFor();
    await page.getByTestId('filter-status').selectOption('active');
    await page.getByTestId(`studio-event-${booked.id}`).waitFor();
    await row.waitFor({ state: 'detached' });
    await page.getByTestId('filter-status').selectOption('any');
    await row.waitFor();

    // Delete asks first; "Vazgeç" keeps it.
    const dialog = page.getByTestId('confirm-dialog');
    await row.getByRole('button', { name: `${tr.catalogue.delete}: “Boş etkinlik”` }).click();
    await dialog.getByRole('heading', { name: tr.confirm.deleteEventTitle }).waitFor();
    await dialog.getByRole('button', { name: tr.confirm.keep }).click();
    expect(await row.count()).toBe(1);
    await row.getByRole('button', { name: `${tr.catalogue.delete}: “Boş etkinlik”` }).click();
    await dialog.getByRole('button', { name: tr.confirm.deleteEventYes }).click();
    await row.waitFor({ state: 'detached' });
    expect(await page.getByTestId('notice').textContent()).toBe(tr.catalogue.deleted.replace('{item}', 'Boş etkinlik'));
    const gone = await fetch(`${suite.service.url}/api/v1/events/${free.id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(gone.status).toBe(404);

    // One with a booking is not deleted, and the page says why.
    const bookedRow = page.getByTestId(`studio-event-${booked.id}`);
    await bookedRow.getByRole('button', { name: `${tr.catalogue.delete}: “Dolu etkinlik”` }).click();
    await dialog.getByRole('button', { name: tr.confirm.deleteEventYes }).click();
    await page.getByRole('alert').filter({ hasText: tr.problem.event_has_reservations }).waitFor();
    expect(await bookedRow.count()).toBe(1);
    expect((await suite.api.call('GET', `/events/${booked.id}`)).title).toBe('Dolu etkinlik');
  });

  it("duplicates an auction: the form is filled from it, its times the same on the studio's clock", async () => {
    suite.keepScreenshots('catalogue-duplicate');
    const token = suite.studio.tokens.access_token;
    const original = await suite.api.auction(token, {
      title: 'Her hafta salsa',
      start_price: '800.00',
      floor_price: '200.00',
      drop_amount: '40.00',
      drop_interval_minutes: 15,
      session_minutes: 90,
      turbo: { trigger_before_minutes: 20, drop_amount: '10.00', interval_minutes: 5 },
      ...draftTimes(2),
    });
    const page = await (await owner()).newPage();
    await page.goto(`${suite.service.url}/studio?kind=auctions`);
    await page.getByTestId(`studio-auction-${original.id}`).getByRole('link', { name: `${tr.catalogue.duplicate}: “Her hafta salsa”` }).click();
    await page.waitForURL(new RegExp(`/studio/auctions/new\\?from=${original.id}$`));
    await page.getByTestId('copy-of').waitFor();
    await expect.poll(() => page.getByLabel(tr.form.title).inputValue()).toBe('Her hafta salsa');
    expect(await page.getByLabel(tr.newAuction.sessionAt).inputValue()).toBe(istanbulLocal(original.scheduled_at));
    expect(await page.getByLabel(tr.newAuction.turboEvery).inputValue()).toBe('5');
    await noSidewaysScroll(page, '/studio/auctions/new?from=');
    await page.getByRole('button', { name: tr.newAuction.submit }).click();
    await page.waitForURL(/\/auctions\/\d+$/);
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    expect(id).not.toBe(original.id);
    const copy = await suite.api.call('GET', `/auctions/${id}`);
    for (const key of ['title', 'description', 'start_price', 'floor_price', 'drop_amount', 'drop_interval_minutes', 'session_minutes', 'turbo', 'studio_id']) {
      expect(copy[key], key).toEqual(original[key]);
    }
    for (const key of ['starts_at', 'ends_at', 'scheduled_at']) expect(Date.parse(copy[key]), key).toBe(Date.parse(original[key]));
  });

  it('lets a platform admin create a studio, edit it and make someone its admin', async () => {
    suite.keepScreenshots('admin-studios');
    const platform = await suite.api.login(ADMIN.email, ADMIN.password);
    const page = await (await phone(suite.browser, { tokens: platform })).newPage();
    await page.goto(suite.service.url);
    await page.getByRole('navigation', { name: tr.nav.main }).getByRole('link', { name: tr.nav.admin }).click();
    await page.getByRole('heading', { level: 1, name: tr.title.admin }).waitFor();
    await page.getByTestId(`studio-${suite.studio.studioId}`).waitFor();
    await page.getByRole('link', { name: tr.title.newStudio }).click();
    await page.getByRole('heading', { level: 1, name: tr.title.newStudio }).waitFor();
    // Istanbul comes first and is chosen.
    expect(await page.getByTestId('timezone').inputValue()).toBe(STUDIO_ZONE);
    expect(await page.getByTestId('timezone').locator('option').first().getAttribute('value')).toBe(STUDIO_ZONE);
    await page.getByLabel(tr.admin.name).fill('Kadıköy Dans');
    await page.getByLabel(tr.admin.address).fill('Moda Cd. 10, Kadıköy');
    await page.getByTestId('timezone').selectOption('Europe/Berlin');
    await page.getByLabel(tr.admin.mapsUrl).fill('https://maps.example/kadikoy');
    await noSidewaysScroll(page, '/admin/studios/new');
    await page.getByRole('button', { name: tr.admin.create }).click();
    await page.waitForURL(/\/admin\/studios\/\d+$/);
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    await page.getByTestId('notice').filter({ hasText: 'Kadıköy Dans' }).waitFor();
    expect(await suite.api.call('GET', `/studios/${id}`)).toEqual({
      id,
      name: 'Kadıköy Dans',
      address: 'Moda Cd. 10, Kadıköy',
      timezone: 'Europe/Berlin',
      maps_url: 'https://maps.example/kadikoy',
    });

    // Edit: back to Istanbul, no map link.
    await page.getByTestId('timezone').selectOption(STUDIO_ZONE);
    await page.getByLabel(tr.admin.mapsUrl).fill('');
    await page.getByRole('button', { name: tr.catalogue.save }).click();
    await page.getByTestId('notice').filter({ hasText: tr.catalogue.saved.replace('{item}', 'Kadıköy Dans') }).waitFor();
    const edited = await suite.api.call('GET', `/studios/${id}`);
    expect([edited.timezone, edited.maps_url]).toEqual([STUDIO_ZONE, null]);

    // Invite an admin: the invitation is listed until whoever reads it accepts it, and then runs the studio.
    await page.getByLabel(tr.accounts.inviteEmail).fill('Kadikoy-Admin@example.test');
    await page.getByRole('button', { name: tr.accounts.invite }).click();
    await page.getByTestId('invitation-list').getByText('kadikoy-admin@example.test', { exact: false }).waitFor();
    const invitee = await suite.api.register('kadikoy-admin@example.test', 'Deniz Yılmaz');
    const invitation = await suite.api.emailedToken('kadikoy-admin@example.test', '/invitations/accept');
    await suite.api.call('POST', '/invitations/accept', invitee.access_token, { token: invitation });
    const admin = await suite.api.login('kadikoy-admin@example.test', 'password-123');
    expect([admin.user.role, admin.user.studio_id]).toEqual(['studio_admin', id]);
    await noSidewaysScroll(page, '/admin/studios/:id');

    // The list shows it; a studio admin is sent from /admin to the board.
    await page.goto(`${suite.service.url}/admin`);
    await page.getByTestId(`studio-${id}`).getByText('Kadıköy Dans').waitFor();
    const studioAdmin = await (await phone(suite.browser, { tokens: admin })).newPage();
    await studioAdmin.goto(`${suite.service.url}/admin`);
    await studioAdmin.getByRole('heading', { level: 1, name: tr.board.title }).waitFor();
    expect(new URL(studioAdmin.url()).pathname).toBe('/');
  });

  // Axe and the screenshots on one store (SQLite), as in phone.e2e.ts; the flows above run on both.
  it.skipIf(process.env.HOTHOUR_TEST_STORE === 'postgres')('fits every new screen in 360 px with no accessibility violations, in both languages', async () => {
    const token = suite.studio.tokens.access_token;
    const auction = await suite.api.auction(token, { title: 'Erişilebilir taslak', ...draftTimes() });
    const event = await suite.api.event(token, { title: 'Erişilebilir etkinlik' });
    await suite.api.event(token, { title: 'Kapalı etkinlik', is_active: false });
    const platform = await suite.api.login(ADMIN.email, ADMIN.password);
    const problems: string[] = [];
    for (const lang of ['tr', 'en'] as const) {
      suite.keepScreenshots(`studio-screens-${lang}`);
      const words = lang === 'tr' ? tr : en;
      const studioPage = await (await phone(suite.browser, { lang, tokens: suite.studio.tokens })).newPage();
      const platformPage = await (await phone(suite.browser, { lang, tokens: platform })).newPage();
      const screens: [Page, string, string, string][] = [
        [studioPage, 'catalogue', '/studio', 'Erişilebilir etkinlik'],
        [studioPage, 'catalogue-past', '/studio?when=past', words.catalogue.noAuctions],
        [studioPage, 'edit-auction', `/studio/auctions/${auction.id}/edit`, words.title.editAuction],
        [studioPage, 'duplicate-auction', `/studio/auctions/new?from=${auction.id}`, words.title.newAuction],
        [studioPage, 'edit-event', `/studio/events/${event.id}/edit`, words.title.editEvent],
        [studioPage, 'duplicate-event', `/studio/events/new?from=${event.id}`, words.title.newEvent],
        [platformPage, 'admin', '/admin', words.admin.studios],
        [platformPage, 'admin-new-studio', '/admin/studios/new', words.admin.create],
        [platformPage, 'admin-studio', `/admin/studios/${suite.studio.studioId}`, words.accounts.invite],
      ];
      for (const [page, name, path, text] of screens) {
        await page.goto(`${suite.service.url}${path}`);
        await page.getByText(text).first().waitFor();
        if (name.startsWith('edit-') || name.startsWith('duplicate-')) await expect.poll(() => page.getByLabel(words.form.title).inputValue()).not.toBe('');
        expect(await page.evaluate(() => document.documentElement.lang), `${lang} ${path}`).toBe(lang);
        const overflow = await sidewaysOverflow(page);
        if (overflow.by > 0) problems.push(`${lang} ${path}: scrolls sideways by ${overflow.by}px (${overflow.widest.join(', ')})`);
        problems.push(...(await axeViolations(page)).map((v) => `${lang} ${path}: ${v}`));
        await screenshotScreen(page, `phone-${lang}-${name}`);
      }
      // The delete question too.
      await studioPage.goto(`${suite.service.url}/studio?kind=events`);
      await studioPage.getByTestId(`delete-event-${event.id}`).click();
      await studioPage.getByTestId('confirm-dialog').getByRole('heading', { name: words.confirm.deleteEventTitle }).waitFor();
      problems.push(...(await axeViolations(studioPage)).map((v) => `${lang} delete dialog: ${v}`));
      for (const page of [studioPage, platformPage]) await page.context().close();
    }
    expect(problems).toEqual([]);
  }, 150_000);
});
