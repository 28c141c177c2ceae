// Holds and tickets on a Turkish phone (360×740, tr-TR, set to New York
// against an Istanbul studio): a hold survives a reload and confirms; My
// bookings shows the ticket with its QR code, and "Takvime ekle" downloads
// its calendar entry.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import type { Browser } from 'playwright-core';
import { Api, launchBrowser, phone, screenshotAll, screenshotScreen, startService, type Service } from './harness';
import tr from '../src/i18n/locales/tr.json';

let service: Service;
let browser: Browser;
let api: Api;
let studio: { studioId: number; tokens: any };

beforeAll(async () => {
  service = await startService();
  api = new Api(service.url);
  browser = await launchBrowser();
  studio = await api.studio('tickets-owner@example.test');
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

beforeEach(async () => {
  for (const context of browser.contexts()) await context.close();
});

function keepScreenshots(name: string) {
  onTestFailed(async () => screenshotAll(browser, name));
}

describe('holds and tickets on a Turkish phone', () => {
  it('keeps a hold on an auction across a reload, then confirms it', async () => {
    keepScreenshots('hold-reload-auction');
    const auction = await api.auction(studio.tokens.access_token, { title: 'Yeniden yüklenen seans' });
    const buyer = await api.register('reload-buyer@example.test');
    const page = await (await phone(browser, { tokens: buyer })).newPage();
    await page.goto(`${service.url}/auctions/${auction.id}`);
    await page.getByTestId('grab').click();
    const countdown = page.getByTestId('hold-countdown');
    await countdown.waitFor();

    const [hold] = (await api.call('GET', '/reservations?status=HOLD', buyer.access_token)).items;
    await page.waitForTimeout(1_500);
    await page.reload();
    await countdown.waitFor();
    // The countdown goes on to the server's hold's end (it was not held again).
    const [minutes, seconds] = (await countdown.textContent())!.split(':').map(Number);
    const left = (Date.parse(hold.expires_at) - Date.now()) / 1000;
    expect(Math.abs(minutes! * 60 + seconds! - left)).toBeLessThan(2);
    expect((await api.call('GET', '/reservations', buyer.access_token)).items).toHaveLength(1);
    await page.getByTestId('confirm').click();
    await expect.poll(() => page.getByTestId('booking-code').textContent()).toMatch(/^[0-9A-Z-]{6,}$/);
    const [booked] = (await api.call('GET', '/reservations', buyer.access_token)).items;
    expect(booked.auction_id).toBe(auction.id);
    expect(booked.status).toBe('CONFIRMED');
  });

  it('keeps a hold of seats across a reload, then confirms it', async () => {
    keepScreenshots('hold-reload-event');
    const event = await api.event(studio.tokens.access_token, { title: 'Yeniden yüklenen etkinlik', capacity: 4 });
    const buyer = await api.register('reload-seats@example.test');
    const page = await (await phone(browser, { tokens: buyer })).newPage();
    await page.goto(`${service.url}/events/${event.id}`);
    await page.getByLabel(tr.event.seats).fill('2');
    await page.getByTestId('hold-seats').click();
    await page.getByTestId('hold-countdown').waitFor();
    await page.reload();
    await page.getByTestId('hold-countdown').waitFor();
    await page.getByTestId('confirm').click();
    await page.getByTestId('booking-code').waitFor();
    await expect.poll(() => page.getByTestId('seats-left').textContent()).toBe('2');
  });

  it('shows the ticket in My bookings with a QR code, and downloads its calendar entry', async () => {
    keepScreenshots('ticket');
    const event = await api.event(studio.tokens.access_token, { title: 'Biletli etkinlik', capacity: 5 });
    const buyer = await api.register('ticket-holder@example.test');
    const held = await api.call('POST', `/events/${event.id}/holds`, buyer.access_token, { quantity: 2 });
    const booked = await api.call('POST', `/reservations/${held.id}/confirm`, buyer.access_token);
    const page = await (await phone(browser, { tokens: buyer })).newPage();
    await page.goto(`${service.url}/me`);
    const card = page.getByTestId(`reservation-${held.id}`);
    const qr = card.getByRole('img', { name: new RegExp(booked.booking_code) });
    await qr.locator('svg path').first().waitFor();
    expect(await card.getByRole('link', { name: 'Biletli etkinlik' }).count()).toBe(1);
    expect(await card.getByTestId('when').textContent()).toContain('Istanbul saati');
    if (process.env.HOTHOUR_TEST_STORE !== 'postgres') await screenshotScreen(page, 'phone-tr-ticket');

    const answer = page.waitForResponse((r) => r.url().endsWith(`/reservations/${held.id}/calendar.ics`));
    const download = page.waitForEvent('download');
    await card.getByRole('button', { name: new RegExp(`^${tr.me.addToCalendar}`) }).click();
    const response = await answer;
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toMatch(/^text\/calendar/);
    const file = await download;
    expect(file.suggestedFilename()).toBe(`hothour-${held.id}.ics`);
    const ics = readFileSync((await file.path())!, 'utf8');
    expect(ics.startsWith('BEGIN:VCALENDAR\r\n')).toBe(true);
    expect(ics).toContain(`UID:reservation-${held.id}@hothour`);
    expect(ics).toContain('SUMMARY:Biletli etkinlik');
    expect(ics.trimEnd().endsWith('END:VCALENDAR')).toBe(true);
  });
});
