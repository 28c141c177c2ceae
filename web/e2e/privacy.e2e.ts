// Leaving (SPEC §7): the privacy page in both languages, linked from every
// page's footer and from registration; and deleting one's account from My
// bookings, confirmed by the password and an "are you sure?": signed out,
// unable to sign in again, the address free to register anew.
import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, phone, screenshotScreen, sidewaysOverflow } from './harness';
import en from '../src/i18n/locales/en.json';
import tr from '../src/i18n/locales/tr.json';

const suite = browserSuite('privacy-owner@example.test');

describe('privacy and leaving', () => {
  it('says what is kept and why, in Turkish and in English, from the footer and the registration form', async () => {
    suite.keepScreenshots('privacy-page');
    for (const [lang, words] of [['tr', tr], ['en', en]] as const) {
      const page = await (await phone(suite.browser, { lang })).newPage();
      await page.goto(`${suite.service.url}/register`);
      // The registration form's own link, in <main>: the footer's link is
      // there before the lazily loaded form is.
      await page.locator('main').getByRole('link', { name: words.leaving.privacyLink }).waitFor();
      await page.getByTestId('privacy-link').click();
      await page.getByTestId('privacy').waitFor();
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(words.leaving.privacyTitle);
      // The page has an address of its own: loaded directly, the service serves the client there.
      await page.reload();
      await page.getByTestId('privacy').waitFor();
      for (const item of ['bookings', 'payments', 'audit', 'mail'] as const) {
        expect(await page.getByTestId(`kept-${item}`).textContent()).toBe(words.leaving.kept[item]);
      }
      expect(await page.getByText(words.leaving.deleting).count()).toBe(1);
      expect(await axeViolations(page)).toEqual([]);
      expect((await sidewaysOverflow(page)).by).toBe(0);
      await screenshotScreen(page, `phone-${lang}-privacy`);
      await page.context().close();
    }
  });

  it('deletes an account after its password and a confirmation; it cannot sign in again, and its address registers anew', async () => {
    suite.keepScreenshots('leaving');
    const event = await suite.api.event(suite.studio.tokens.access_token, { title: 'Ayrılmadan önce', capacity: 5 });
    const leaver = await suite.api.register('leaver@example.test', 'Leyla Ayrılır');
    const hold = await suite.api.call('POST', `/events/${event.id}/holds`, leaver.access_token, { quantity: 1 });
    await suite.api.call('POST', `/reservations/${hold.id}/confirm`, leaver.access_token, {});
    const page = await (await phone(suite.browser, { lang: 'en', tokens: leaver })).newPage();
    await page.goto(`${suite.service.url}/me`);
    await page.getByTestId('leave').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    expect((await sidewaysOverflow(page)).by).toBe(0);
    await page.getByTestId('leave').scrollIntoViewIfNeeded();
    await screenshotScreen(page, 'phone-en-leave');

    // A wrong password deletes nothing, and says so.
    await page.getByTestId('leave-password').fill('not-my-password');
    await page.getByTestId('leave-submit').click();
    await page.getByTestId('confirm-yes').click();
    await expect.poll(() => page.getByTestId('leave-error').textContent()).toBe(en.leaving.wrongPassword);
    expect((await suite.api.call('GET', '/me', leaver.access_token)).email).toBe('leaver@example.test');

    // Saying no keeps the account.
    await page.getByTestId('leave-password').fill('password-123');
    await page.getByTestId('leave-submit').click();
    await page.getByRole('button', { name: en.leaving.confirmNo }).click();
    expect((await suite.api.call('GET', '/me', leaver.access_token)).email).toBe('leaver@example.test');

    await page.getByTestId('leave-submit').click();
    await expect.poll(() => page.getByTestId('confirm-dialog').textContent()).toContain(en.leaving.confirmTitle);
    await screenshotScreen(page, 'phone-en-leave-confirm');
    await page.getByTestId('confirm-yes').click();
    await page.waitForURL(`${suite.service.url}/`);
    await page.getByRole('link', { name: en.nav.signIn }).waitFor();

    await expect(suite.api.login('leaver@example.test', 'password-123')).rejects.toThrow(/401/);
    await expect(suite.api.call('GET', '/me', leaver.access_token)).rejects.toThrow(/401/);
    const again = await suite.api.register('leaver@example.test', 'Leyla Yeniden');
    expect(again.user.id).not.toBe(leaver.user.id);

    // The booking stays in the studio's records, without a name.
    const roster = await suite.api.call('GET', `/studios/${suite.studio.studioId}/roster?event_id=${event.id}`, suite.studio.tokens.access_token);
    expect(roster.items.map((e: any) => [e.reservation_id, e.full_name])).toEqual([[hold.id, '']]);
  });
});
