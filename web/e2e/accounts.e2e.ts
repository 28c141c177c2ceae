// Accounts that prove their mailboxes, in the browser on a phone, with the
// mail the service really wrote (its .eml files): register, open the
// verification link from the message, book, and find the booking code in
// the confirmation mail; forget the password and reset it from the emailed
// link; accept a studio invitation after signing up from its page.
import { describe, expect, it } from 'vitest';
import { ADMIN, axeViolations, browserSuite, emailedLink, mailTo, phone } from './harness';
import en from '../src/i18n/locales/en.json';
import tr from '../src/i18n/locales/tr.json';

const suite = browserSuite('accounts-owner@example.test');

/** The messages to `address` once one of them contains `text`. */
async function mailWith(address: string, text: string): Promise<string[]> {
  await expect.poll(() => mailTo(suite.service.mailDir, address).some((m) => m.includes(text)), { timeout: 15_000 }).toBe(true);
  return mailTo(suite.service.mailDir, address);
}

describe('accounts that prove their mailboxes', () => {
  it('registers, verifies the address from the emailed link, books, and is mailed the booking code', async () => {
    suite.keepScreenshots('accounts-verify-and-book');
    const event = await suite.api.event(suite.studio.tokens.access_token, { title: 'Doğrulanmış yoga', capacity: 5 });
    const page = await (await phone(suite.browser, { lang: 'tr' })).newPage();
    await page.goto(`${suite.service.url}/register`);
    await page.getByLabel(tr.register.fullName).fill('Ayşe Doğru');
    await page.getByLabel(tr.form.email).fill('ayse-verified@example.test');
    await page.getByLabel(tr.register.password).fill('password-123');
    await page.getByRole('button', { name: tr.register.submit }).click();
    const nudge = page.getByTestId('verify-nudge');
    await nudge.waitFor();
    expect(await axeViolations(page)).toEqual([]);

    const link = await emailedLink(suite.service.mailDir, 'ayse-verified@example.test', '/verify');
    expect(link.startsWith(`${suite.service.url}/verify?token=mt_`)).toBe(true);
    await page.goto(link);
    await page.getByTestId('verified').waitFor();
    await nudge.waitFor({ state: 'detached' });
    expect(await axeViolations(page)).toEqual([]);
    // A link works once.
    await page.reload();
    await page.getByTestId('verify-error').filter({ hasText: tr.problem.token_used }).waitFor();

    // Unverified or not, people book; the confirmation mail has the code.
    await page.goto(`${suite.service.url}/events/${event.id}`);
    await page.getByLabel(tr.event.seats).fill('1');
    await page.getByTestId('hold-seats').click();
    await page.getByTestId('confirm').click();
    await expect.poll(() => page.getByTestId('booking-code').textContent()).toMatch(/^[0-9A-Z-]{6,}$/);
    const code = (await page.getByTestId('booking-code').textContent())!.trim();
    const mail = await mailWith('ayse-verified@example.test', code);
    const confirmation = mail.find((m) => m.includes(code))!;
    expect(confirmation).toContain('Doğrulanmış yoga');
    expect(confirmation).toContain('rezervasyonunuz onaylandı');
  });

  it('resends the verification link from the nudge', async () => {
    suite.keepScreenshots('accounts-resend');
    const tokens = await suite.api.register('nudged@example.test');
    const page = await (await phone(suite.browser, { lang: 'en', tokens })).newPage();
    await page.goto(`${suite.service.url}/`);
    await page.getByTestId('resend-verification').click();
    await page.getByTestId('verify-nudge').getByText(en.accounts.resent.replace('{email}', 'nudged@example.test')).waitFor({ timeout: 5_000 });
    await expect.poll(() => mailTo(suite.service.mailDir, 'nudged@example.test').filter((m) => m.includes('/verify?token=')).length).toBe(2);
  });

  it('resets a forgotten password from the emailed link', async () => {
    suite.keepScreenshots('accounts-reset');
    await suite.api.register('forgetful@example.test');
    const page = await (await phone(suite.browser, { lang: 'en' })).newPage();
    await page.goto(`${suite.service.url}/signin`);
    await page.getByTestId('forgot-password').click();
    // The sign-in form has an Email field too: fill only once the lazily
    // loaded reset form is shown, or the address lands on the page left behind.
    await page.getByRole('heading', { name: en.accounts.forgotTitle }).waitFor();
    await page.getByLabel(en.form.email).fill('forgetful@example.test');
    await page.getByRole('button', { name: en.accounts.sendLink }).click();
    await page.getByTestId('reset-sent').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    const link = await emailedLink(suite.service.mailDir, 'forgetful@example.test', '/reset');
    await page.goto(link);
    await page.getByLabel(en.accounts.newPassword).fill('a brand new one');
    await page.getByRole('button', { name: en.accounts.setPassword }).click();
    await page.getByTestId('password-set').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    const signedIn = await suite.api.login('forgetful@example.test', 'a brand new one');
    expect(signedIn.user.email_verified).toBe(true);
  });

  it('accepts a studio invitation after registering from its page', async () => {
    suite.keepScreenshots('accounts-invitation');
    const platform = await suite.api.login(ADMIN.email, ADMIN.password);
    const studio = await suite.api.call('POST', '/studios', platform.access_token, { name: 'Davetli Stüdyo', timezone: 'Europe/Istanbul' });
    await suite.api.call('POST', `/studios/${studio.id}/admins`, platform.access_token, { email: 'invitee@example.test', locale: 'tr' });
    const link = await emailedLink(suite.service.mailDir, 'invitee@example.test', '/invitations/accept');
    const page = await (await phone(suite.browser, { lang: 'tr' })).newPage();
    await page.goto(link);
    await page.getByRole('link', { name: tr.accounts.register }).click();
    await page.getByLabel(tr.register.fullName).fill('Davetli Kişi');
    await page.getByLabel(tr.form.email).fill('invitee@example.test');
    await page.getByLabel(tr.register.password).fill('password-123');
    await page.getByRole('button', { name: tr.register.submit }).click();
    await page.getByTestId('accept-invitation').click();
    await page.getByTestId('invitation-accepted').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    const admin = await suite.api.login('invitee@example.test', 'password-123');
    expect([admin.user.role, admin.user.studio_id, admin.user.email_verified]).toEqual(['studio_admin', studio.id, true]);
  });

  it('signs out for real: the refresh token left behind is refused', async () => {
    const tokens = await suite.api.register('leaving-device@example.test');
    const page = await (await phone(suite.browser, { lang: 'en', tokens })).newPage();
    await page.goto(`${suite.service.url}/me`);
    await page.getByRole('button', { name: en.nav.signOut }).click();
    await page.getByRole('link', { name: en.nav.signIn }).first().waitFor();
    await expect
      .poll(() => suite.api.call('POST', '/auth/refresh', null, { refresh_token: tokens.refresh_token }).then(() => 'accepted', (e: Error) => e.message))
      .toMatch(/: 401 /);
  });
});
