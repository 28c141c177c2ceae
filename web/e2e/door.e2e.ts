// The studio's door on a Turkish phone (360×740, tr-TR, set to New York
// against an Istanbul studio): a customer books an event starting soon; the
// admin opens /studio/door, picks the session, finds the customer in the
// roster (another booking arrives live), checks them in with a tap, then
// types the same code and sees it shown red as already used, with when.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { axeViolations, browserSuite, phone, screenshotScreen, sidewaysOverflow } from './harness';
import tr from '../src/i18n/locales/tr.json';

const STUDIO_ZONE = 'Europe/Istanbul';
const MINUTE = 60_000;
const suite = browserSuite('door-owner@example.test');

async function fitsAndPasses(page: Page, where: string) {
  const overflow = await sidewaysOverflow(page);
  expect(overflow.by, `${where} scrolls sideways: ${overflow.widest.join(', ')}`).toBeLessThanOrEqual(0);
  expect(await axeViolations(page), where).toEqual([]);
}

/** The studio's day of an instant ("2026-12-08"). */
const istanbulDate = (at: string) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: STUDIO_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(at));
/** An instant's hour and minute on the studio's clock ("19:05"). */
const istanbulTime = (at: string) =>
  new Intl.DateTimeFormat('tr-TR', { timeZone: STUDIO_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(at));

describe('the door on a Turkish phone', () => {
  it('checks a customer in from the roster, and shows the same code typed again as already used', async () => {
    suite.keepScreenshots('door');
    const token = suite.studio.tokens.access_token;
    // Within the check-in window (it opens two hours before the session).
    const starts = Math.ceil((Date.now() + 30 * MINUTE) / MINUTE) * MINUTE;
    const event = await suite.api.event(token, {
      title: 'Kapıda yoga',
      capacity: 6,
      starts_at: new Date(starts).toISOString(),
      ends_at: new Date(starts + 60 * MINUTE).toISOString(),
    });

    // The customer books two seats on their own phone.
    const customer = await suite.api.register('door-customer@example.test', 'Zeynep Kaya');
    const booking = await (await phone(suite.browser, { tokens: customer })).newPage();
    await booking.goto(`${suite.service.url}/events/${event.id}`);
    await booking.getByLabel(tr.event.seats).fill('2');
    await booking.getByTestId('hold-seats').click();
    await booking.getByTestId('confirm').click();
    await booking.getByTestId('booking-code').waitFor();
    const [ticket] = (await suite.api.call('GET', '/reservations', customer.access_token)).items;
    expect(ticket.status).toBe('CONFIRMED');
    const code: string = ticket.booking_code;

    const page = await (await phone(suite.browser, { tokens: suite.studio.tokens })).newPage();
    await page.goto(`${suite.service.url}/studio/door?date=${istanbulDate(event.starts_at)}`);
    await page.getByRole('heading', { level: 1, name: tr.title.door }).waitFor();
    const session = page.getByTestId(`door-session-event-${event.id}`);
    await session.waitFor();
    expect(await session.textContent()).toContain(istanbulTime(event.starts_at));
    await session.click();
    await page.waitForURL(new RegExp(`session=event-${event.id}`));

    const row = page.getByTestId(`roster-${ticket.id}`);
    await row.getByText('Zeynep Kaya').waitFor();
    expect(await row.getByTestId('roster-status').textContent()).toBe(tr.status.reservation.CONFIRMED);
    await fitsAndPasses(page, '/studio/door with a roster');

    // Another booking arrives while the roster is open: it appears by name.
    const other = await suite.api.register('door-other@example.test', 'Mert Demir');
    const held = await suite.api.call('POST', `/events/${event.id}/holds`, other.access_token, { quantity: 1 });
    await suite.api.call('POST', `/reservations/${held.id}/confirm`, other.access_token);
    const otherRow = page.getByTestId(`roster-${held.id}`);
    await otherRow.getByText('Mert Demir').waitFor();

    // The search narrows the roster by name, or by code.
    const search = page.getByTestId('roster-search');
    await search.fill('zeyn');
    await otherRow.waitFor({ state: 'detached' });
    await search.fill(code.slice(0, 4).toLowerCase());
    await row.waitFor();
    await search.fill('');
    await otherRow.waitFor();

    // A tap checks the customer in: green, with name, seats, what and when.
    await row.getByRole('button', { name: tr.door.checkInWho.replace('{name}', 'Zeynep Kaya') }).click();
    const answer = page.getByTestId('door-answer');
    await answer.and(page.locator('[data-answer="ok"]')).waitFor();
    const welcomed = (await answer.textContent())!;
    expect(welcomed).toContain(tr.door.welcome);
    expect(welcomed).toContain('Zeynep Kaya');
    expect(welcomed).toContain('Kapıda yoga');
    expect(welcomed).toContain(tr.me.seats.split('|').pop()!.trim().replace('{n}', '2'));
    await row.getByTestId('roster-status').filter({ hasText: tr.status.reservation.CHECKED_IN }).waitFor();
    const checkedIn = (await suite.api.call('GET', `/reservations/${ticket.id}`, customer.access_token)).checked_in_at as string;
    expect(await row.getByTestId('roster-checked-in').textContent()).toBe(tr.door.checkedInAt.replace('{time}', istanbulTime(checkedIn)));

    // The same code typed again (loosely): red, "already used", with the time it was used.
    await page.getByTestId('door-code').fill(`${code.slice(0, 4).toLowerCase()}-${code.slice(4)}`);
    await page.getByTestId('door-code').press('Enter');
    await answer.and(page.locator('[data-answer="used"]')).waitFor();
    const used = (await answer.textContent())!;
    expect(used).toContain(tr.door.used);
    expect(used).toContain('Zeynep Kaya');
    expect(await page.getByTestId('door-used-at').textContent()).toContain(istanbulTime(checkedIn));
    const colour = await answer.evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(colour).toBe('rgb(253, 232, 232)');
    // Nothing changed: still checked in once, at the first time.
    expect((await suite.api.call('GET', `/reservations/${ticket.id}`, customer.access_token)).checked_in_at).toBe(checkedIn);
    await fitsAndPasses(page, '/studio/door with a used code');
    await screenshotScreen(page, 'phone-tr-door');
  });

  it('says in words when check-in is not open yet, and when the session starts', async () => {
    suite.keepScreenshots('door-not-open');
    const token = suite.studio.tokens.access_token;
    const event = await suite.api.event(token, { title: 'Yarınki yoga' });
    const customer = await suite.api.register('door-early@example.test', 'Erken Gelen');
    const held = await suite.api.call('POST', `/events/${event.id}/holds`, customer.access_token, { quantity: 1 });
    const booked = await suite.api.call('POST', `/reservations/${held.id}/confirm`, customer.access_token);
    const page = await (await phone(suite.browser, { tokens: suite.studio.tokens })).newPage();
    await page.goto(`${suite.service.url}/studio/check-in`);
    await page.waitForURL(/\/studio\/door/);
    await page.getByTestId('door-code').fill(booked.booking_code);
    await page.getByTestId('door-code').press('Enter');
    const answer = page.getByTestId('door-answer');
    await answer.and(page.locator('[data-answer="closed"]')).waitFor();
    expect(await answer.textContent()).toContain(istanbulTime(event.starts_at));
    await fitsAndPasses(page, '/studio/door, check-in not open');
  });

  it("scans a ticket's QR with the camera where the browser reads QR codes", async () => {
    suite.keepScreenshots('door-scan');
    const token = suite.studio.tokens.access_token;
    const starts = Math.ceil((Date.now() + 20 * MINUTE) / MINUTE) * MINUTE;
    const event = await suite.api.event(token, {
      title: 'Taranan yoga',
      starts_at: new Date(starts).toISOString(),
      ends_at: new Date(starts + 60 * MINUTE).toISOString(),
    });
    const customer = await suite.api.register('door-scanned@example.test', 'Deniz Tarar');
    const held = await suite.api.call('POST', `/events/${event.id}/holds`, customer.access_token, { quantity: 1 });
    const booked = await suite.api.call('POST', `/reservations/${held.id}/confirm`, customer.access_token);

    // Headless Chromium has neither a camera nor a BarcodeDetector: a canvas
    // stands in for the camera, and a detector that reads the ticket's QR
    // (its code, as TicketCode.vue draws it) once the video plays.
    const context = await phone(suite.browser, { tokens: suite.studio.tokens });
    await context.addInitScript((qr) => {
      (window as any).BarcodeDetector = class {
        static async getSupportedFormats() {
          return ['qr_code'];
        }
        async detect(video: HTMLVideoElement) {
          return video.readyState >= 2 ? [{ rawValue: qr }] : [];
        }
      };
      navigator.mediaDevices.getUserMedia = async () => {
        const canvas = document.createElement('canvas');
        canvas.width = canvas.height = 64;
        canvas.getContext('2d')!.fillRect(0, 0, 64, 64);
        return canvas.captureStream(5);
      };
    }, booked.booking_code as string);
    const page = await context.newPage();
    await page.goto(`${suite.service.url}/studio/door`);
    await page.getByRole('button', { name: tr.door.scan, exact: true }).click();
    const answer = page.getByTestId('door-answer');
    await answer.and(page.locator('[data-answer="ok"]')).waitFor();
    expect(await answer.textContent()).toContain('Deniz Tarar');
    await page.getByTestId('scanner').waitFor({ state: 'detached' });
    expect((await suite.api.call('GET', `/reservations/${held.id}`, customer.access_token)).status).toBe('CHECKED_IN');
  });

  it("names the holder and what they booked in the studio's live feed", async () => {
    suite.keepScreenshots('door-feed');
    const event = await suite.api.event(suite.studio.tokens.access_token, { title: 'Canlı akış yogası' });
    const page = await (await phone(suite.browser, { tokens: suite.studio.tokens })).newPage();
    await page.goto(`${suite.service.url}/studio`);
    await page.getByTestId('feed').waitFor({ state: 'attached' });
    await page.locator('.conn.on').waitFor();
    const customer = await suite.api.register('door-feed@example.test', 'Selin Akış');
    await suite.api.call('POST', `/events/${event.id}/holds`, customer.access_token, { quantity: 2 });
    const entry = page.getByTestId('feed').locator('li').filter({ hasText: 'Canlı akış yogası' }).first();
    await entry.getByTestId('feed-holder').filter({ hasText: 'Selin Akış' }).waitFor();
    expect(await entry.getByTestId('feed-what').textContent()).toContain('Canlı akış yogası');
  });
});
