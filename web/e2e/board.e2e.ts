// The board on a Turkish phone (360×740, tr-TR, set to New York against
// Istanbul studios): live through the one `catalogue` room, filtered by day
// (on the studio's calendar), studio and kind, more on scroll.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { axeViolations, browserSuite, phone, screenshotScreen, sidewaysOverflow } from './harness';
import tr from '../src/i18n/locales/tr.json';

const STUDIO_ZONE = 'Europe/Istanbul';
const PAGE = 20;
const suite = browserSuite('board-owner@example.test');

/** The Istanbul calendar date of an instant ("2026-12-08"). */
const istanbulDate = (at: number | string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: STUDIO_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(at));

/** The instant of a wall-clock time in Istanbul (UTC+3 all year). */
const istanbulAt = (date: string, time: string) => new Date(`${date}T${time}:00+03:00`).toISOString();

/** The Istanbul date `days` after `date`. */
const plusDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** The ids of the cards on the board, in order. */
async function cards(page: Page, kind: 'auction' | 'event'): Promise<number[]> {
  const ids = await page.locator(`[data-testid^="${kind}-"]`).evaluateAll((els) => els.map((el) => el.getAttribute('data-testid')));
  return ids.flatMap((id) => (id && /^\w+-\d+$/.test(id) ? [Number(id.split('-')[1])] : []));
}

async function noSidewaysScroll(page: Page, where: string) {
  const overflow = await sidewaysOverflow(page);
  expect(overflow.by, `${where} scrolls sideways: ${overflow.widest.join(', ')}`).toBeLessThanOrEqual(0);
}

describe('the board on a Turkish phone', () => {
  it('shows an auction created through the API within 2 s, and follows it, with no reload', async () => {
    suite.keepScreenshots('board-live');
    const page = await (await phone(suite.browser)).newPage();
    await page.goto(suite.service.url);
    await page.getByRole('heading', { level: 1, name: tr.board.title }).waitFor();
    await page.getByText(tr.live.on, { exact: true }).waitFor();
    // A first one shows the catalogue is joined (however it arrives); the next can only come through it.
    const first = await suite.api.auction(suite.studio.tokens.access_token, { title: 'İlk seans' });
    await page.getByTestId(`auction-${first.id}`).waitFor({ timeout: 5_000 });
    const created = Date.now();
    const auction = await suite.api.auction(suite.studio.tokens.access_token, { title: 'Canlı gelen seans' });
    const card = page.getByTestId(`auction-${auction.id}`);
    await card.waitFor({ timeout: 2_000 });
    expect(Date.now() - created).toBeLessThan(2_000);
    expect(await card.getByRole('link').textContent()).toBe('Canlı gelen seans');
    expect(await card.getByTestId('status').textContent()).toBe(tr.status.auction.ACTIVE);
    expect(await card.getByTestId('price').textContent()).toBe('₺500,00');

    // An event too; a grab shows on the card; a sold auction leaves the board.
    const event = await suite.api.event(suite.studio.tokens.access_token, { title: 'Canlı gelen etkinlik', capacity: 6 });
    await page.getByTestId(`event-${event.id}`).getByTestId('seats-left').filter({ hasText: /^6$/ }).waitFor({ timeout: 2_000 });
    const buyer = await suite.api.register('board-buyer@example.test');
    const held = await suite.api.call('POST', `/auctions/${auction.id}/grab`, buyer.access_token);
    await card.getByTestId('status').filter({ hasText: tr.status.auction.HELD }).waitFor({ timeout: 2_000 });
    await suite.api.call('POST', `/events/${event.id}/holds`, buyer.access_token, { quantity: 2 });
    await page.getByTestId(`event-${event.id}`).getByTestId('seats-left').filter({ hasText: /^4$/ }).waitFor({ timeout: 2_000 });
    await suite.api.call('POST', `/reservations/${held.id}/confirm`, buyer.access_token);
    await card.waitFor({ state: 'detached', timeout: 2_000 });
    // A deactivated event leaves it too.
    await suite.api.call('PATCH', `/events/${event.id}`, suite.studio.tokens.access_token, { is_active: false });
    await page.getByTestId(`event-${event.id}`).waitFor({ state: 'detached', timeout: 2_000 });
  });

  it("filters by day on the studio's calendar, by studio and by kind", async () => {
    suite.keepScreenshots('board-filters');
    const other = await suite.api.studio('board-other@example.test');
    const name = (await suite.api.call('GET', `/studios/${other.studioId}`)).name as string;
    const token = other.tokens.access_token;
    const today = istanbulDate(Date.now());
    const tomorrow = plusDays(today, 1);
    const hour = 3_600_000;
    const soon = new Date(Date.now() + 10 * 60_000).toISOString();
    const at = (starts: string) => ({ starts_at: starts, ends_at: new Date(Date.parse(starts) + hour).toISOString() });
    const events = {
      soon: await suite.api.event(token, { title: 'Az sonra', ...at(soon) }),
      tomorrow: await suite.api.event(token, { title: 'Yarın öğlen', ...at(istanbulAt(tomorrow, '12:00')) }),
      later: await suite.api.event(token, { title: 'On gün sonra', ...at(istanbulAt(plusDays(today, 10), '12:00')) }),
    };
    // Its sale runs now; its session is tomorrow evening in Istanbul (early afternoon in New York).
    const auction = await suite.api.auction(token, { title: 'Yarın akşam seansı', scheduled_at: istanbulAt(tomorrow, '20:00') });
    const elsewhere = await suite.api.event(suite.studio.tokens.access_token, { title: 'Başka stüdyoda' });

    const page = await (await phone(suite.browser)).newPage();
    await page.goto(suite.service.url);
    await page.getByTestId(`event-${elsewhere.id}`).waitFor();
    await page.getByLabel(tr.board.studio).selectOption({ label: name });
    await page.waitForURL(new RegExp(`studio=${other.studioId}`));
    const all = [events.soon.id, events.tomorrow.id, events.later.id];
    await expect.poll(() => cards(page, 'event')).toEqual(all);
    expect(await cards(page, 'auction')).toEqual([auction.id]);

    const expected = (day: (date: string) => boolean) => [events.soon, events.tomorrow, events.later].filter((e) => day(istanbulDate(e.starts_at))).map((e) => e.id);
    const mondayAfter = (() => {
      const weekday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7;
      return plusDays(today, 7 - weekday);
    })();
    const days: [string, (date: string) => boolean, boolean][] = [
      [tr.board.today, (d) => d === today, false],
      [tr.board.tomorrow, (d) => d === tomorrow, true],
      [tr.board.thisWeek, (d) => d >= today && d < mondayAfter, tomorrow < mondayAfter],
    ];
    for (const [label, day, auctionShown] of days) {
      await page.getByLabel(tr.board.day).selectOption({ label });
      await expect.poll(() => cards(page, 'event'), { message: label }).toEqual(expected(day));
      expect(await cards(page, 'auction'), label).toEqual(auctionShown ? [auction.id] : []);
      if (!auctionShown) expect(await page.getByText(tr.board.noAuctionsFiltered).count()).toBe(1);
    }
    await page.getByLabel(tr.board.day).selectOption({ label: tr.board.tomorrow });
    await page.getByLabel(tr.board.show).selectOption({ label: tr.board.events });
    await expect.poll(() => page.getByRole('heading', { name: tr.board.auctions }).count()).toBe(0);
    // The day and the kind re-render one after the other: wait for both.
    await expect.poll(() => cards(page, 'event')).toEqual([events.tomorrow.id]);
    expect(new URL(page.url()).search).toBe(`?day=tomorrow&studio=${other.studioId}&kind=events`);

    // The filter is in the URL: a reload keeps it.
    await page.reload();
    await expect.poll(() => cards(page, 'event')).toEqual([events.tomorrow.id]);
    expect(await page.getByLabel(tr.board.day).inputValue()).toBe('tomorrow');
    await noSidewaysScroll(page, '/ with filters');
    if (process.env.HOTHOUR_TEST_STORE !== 'postgres') {
      expect(await axeViolations(page)).toEqual([]);
      await screenshotScreen(page, 'phone-tr-board-filtered');
    }

    // Back to everything: the other studio's event is there again.
    await page.getByLabel(tr.board.studio).selectOption({ label: tr.board.anyStudio });
    await page.getByLabel(tr.board.day).selectOption({ label: tr.board.anyDay });
    await page.getByTestId(`event-${elsewhere.id}`).waitFor();
  });

  it('loads more on scroll through the cursor, and with the Show more button', async () => {
    suite.keepScreenshots('board-more');
    const many = await suite.api.studio('board-many@example.test');
    const base = Date.now() + 2 * 86_400_000;
    const ids: number[] = [];
    for (let i = 0; i < PAGE + 5; i++) {
      const starts = new Date(base + i * 3_600_000).toISOString();
      const ends = new Date(base + i * 3_600_000 + 1_800_000).toISOString();
      ids.push((await suite.api.event(many.tokens.access_token, { title: `Ders ${i + 1}`, starts_at: starts, ends_at: ends })).id);
    }
    const path = `/?studio=${many.studioId}&kind=events`;

    const page = await (await phone(suite.browser)).newPage();
    await page.goto(`${suite.service.url}${path}`);
    await expect.poll(() => cards(page, 'event')).toEqual(ids.slice(0, PAGE));
    const more = page.getByRole('button', { name: tr.board.more });
    expect(await more.isVisible()).toBe(true);
    await noSidewaysScroll(page, `${path}, page one`);
    // Scrolling to the end of the list brings the next page.
    await page.mouse.wheel(0, 100_000);
    await expect.poll(() => cards(page, 'event')).toEqual(ids);
    await more.waitFor({ state: 'detached' });

    // Without an IntersectionObserver, the button does it.
    const plain = await phone(suite.browser);
    await plain.addInitScript(() => delete (window as { IntersectionObserver?: unknown }).IntersectionObserver);
    const buttonOnly = await plain.newPage();
    await buttonOnly.goto(`${suite.service.url}${path}`);
    await expect.poll(() => cards(buttonOnly, 'event')).toEqual(ids.slice(0, PAGE));
    await buttonOnly.getByRole('button', { name: tr.board.more }).click();
    await expect.poll(() => cards(buttonOnly, 'event')).toEqual(ids);
  });
});
