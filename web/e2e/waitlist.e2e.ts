// A full event's waiting list on a Turkish phone (360×740, tr-TR) and in
// English: a customer joins the line for a seat and sees their place (it
// stays after a reload); when the holder lets go, the seat is offered to
// them live (`hold_offered`) and the page shows the offered hold to confirm
// like any; another customer joins and leaves. axe and no sideways scroll.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { axeViolations, browserSuite, phone, screenshotScreen, sidewaysOverflow } from './harness';
import tr from '../src/i18n/locales/tr.json';
import en from '../src/i18n/locales/en.json';

const suite = browserSuite('waitlist-owner@example.test');

async function fitsAndPasses(page: Page, where: string) {
  const overflow = await sidewaysOverflow(page);
  expect(overflow.by, `${where} scrolls sideways: ${overflow.widest.join(', ')}`).toBeLessThanOrEqual(0);
  expect(await axeViolations(page), where).toEqual([]);
}

describe('the waiting list of a full event', () => {
  it('puts a customer in line, then offers them the seat that comes back, to confirm', async () => {
    suite.keepScreenshots('waitlist-offer');
    const event = await suite.api.event(suite.studio.tokens.access_token, { title: 'Dolu etkinlik', capacity: 2 });
    const holder = await suite.api.register('waitlist-holder@example.test');
    const held = await suite.api.call('POST', `/events/${event.id}/holds`, holder.access_token, { quantity: 2 });
    const waiter = await suite.api.register('waitlist-waiter@example.test');
    const page = await (await phone(suite.browser, { tokens: waiter })).newPage();
    await page.goto(`${suite.service.url}/events/${event.id}`);

    await page.getByRole('heading', { name: tr.waitlist.heading }).waitFor();
    await page.getByLabel(tr.waitlist.seats).fill('1');
    await fitsAndPasses(page, 'the waiting list form');
    await page.getByTestId('join-waitlist').click();
    const place = page.getByTestId('waiting-place');
    await expect.poll(() => place.textContent()).toBe('Sırada 1. sıradasınız, 1 kişilik yer için.');
    await page.reload();
    await expect.poll(() => place.textContent()).toContain('1.');
    await fitsAndPasses(page, 'a place in line');
    await screenshotScreen(page, 'waitlist-place');

    // The holder lets go: the seat is held for the waiter, who is told at once.
    await suite.api.call('POST', `/reservations/${held.id}/cancel`, holder.access_token);
    await page.getByTestId('offer-arrived').waitFor();
    await page.getByTestId('hold-countdown').waitFor();
    expect(await page.getByTestId('waitlist').count()).toBe(0);
    await fitsAndPasses(page, 'an offered hold');
    await screenshotScreen(page, 'waitlist-offered');
    await page.getByTestId('confirm').click();
    await page.getByTestId('booking-code').waitFor();
    const [booking] = (await suite.api.call('GET', '/reservations?status=CONFIRMED', waiter.access_token)).items;
    expect(booking.event_id).toBe(event.id);
    expect(booking.quantity).toBe(1);
  });

  it('lets a customer leave the line, in English', async () => {
    suite.keepScreenshots('waitlist-leave');
    const event = await suite.api.event(suite.studio.tokens.access_token, { title: 'Full class', capacity: 1 });
    const holder = await suite.api.register('leave-holder@example.test');
    await suite.api.call('POST', `/events/${event.id}/holds`, holder.access_token, { quantity: 1 });
    const waiter = await suite.api.register('leave-waiter@example.test');
    const page = await (await phone(suite.browser, { tokens: waiter, locale: 'en-GB', lang: 'en' })).newPage();
    await page.goto(`${suite.service.url}/events/${event.id}`);
    await page.getByLabel(en.waitlist.seats).fill('2');
    await page.getByTestId('join-waitlist').click();
    await expect.poll(() => page.getByTestId('waiting-place').textContent()).toBe('You are number 1 in line, for 2 seat(s).');
    const mine = await suite.api.call('GET', `/events/${event.id}/waitlist/me`, waiter.access_token);
    expect(mine.quantity).toBe(2);
    await page.getByTestId('leave-waitlist').click();
    await page.getByTestId('join-waitlist').waitFor();
    await expect(suite.api.call('GET', `/events/${event.id}/waitlist/me`, waiter.access_token)).rejects.toThrow(/404/);
    await fitsAndPasses(page, 'after leaving');
  });
});
