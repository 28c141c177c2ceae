// The SPA in a real browser against the real binary (SQLite).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import type { Browser } from 'playwright-core';
import { Api, axeViolations, cspViolations, launchBrowser, screenshotAll, signedIn, startService, type Service } from './harness';

let service: Service;
let browser: Browser;
let api: Api;
let studio: { studioId: number; tokens: any };

beforeAll(async () => {
  service = await startService();
  api = new Api(service.url, service.mailDir);
  browser = await launchBrowser();
  studio = await api.studio('owner@example.test');
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

// The previous test's pages stay open until the next one starts, so a failure's screenshots can show them.
beforeEach(async () => {
  for (const context of browser.contexts()) await context.close();
});

// The web client and Swagger UI work under the Content-Security-Policy: nothing they do is refused.
afterEach(() => {
  expect(cspViolations.splice(0)).toEqual([]);
});

function keepScreenshots(name: string) {
  onTestFailed(async () => screenshotAll(browser, name));
}

const text = (page: import('playwright-core').Page, testId: string) => page.getByTestId(testId).first().textContent();

describe('the web client', () => {
  it('shows "On hold" in a second browser within 1 s of a grab, without a reload', async () => {
    keepScreenshots('grab-on-hold');
    const auction = await api.auction(studio.tokens.access_token, { title: 'Race for the slot' });
    const buyer = await api.register('buyer@example.test');
    const watcher = await api.register('watcher@example.test');
    const a = await (await signedIn(browser, buyer)).newPage();
    const b = await (await signedIn(browser, watcher)).newPage();
    await Promise.all([a.goto(`${service.url}/auctions/${auction.id}`), b.goto(`${service.url}/auctions/${auction.id}`)]);
    await b.getByText('Live', { exact: true }).waitFor();
    await expect.poll(() => text(b, 'status')).toBe('Active');
    await a.getByTestId('grab').click();
    await a.getByTestId('hold-countdown').waitFor();
    const held = Date.now();
    await b.getByTestId('status').filter({ hasText: 'On hold' }).waitFor({ timeout: 1_000 });
    expect(Date.now() - held).toBeLessThan(1_000);
    // The holder confirms and gets a booking code.
    await a.getByTestId('confirm').click();
    await expect.poll(() => text(a, 'booking-code'), { timeout: 5_000 }).toMatch(/^[0-9A-Z-]{6,}$/);
    await b.getByTestId('status').filter({ hasText: 'Sold' }).waitFor({ timeout: 2_000 });
  });

  it('changes the price at the step boundary, on server time', async () => {
    keepScreenshots('price-step');
    // One-minute drops that started 57 s ago: the next drop is 3 s away.
    const auction = await api.auction(studio.tokens.access_token, {
      title: 'Step boundary',
      starts_at: new Date(Date.now() - 57_000).toISOString(),
    });
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${service.url}/auctions/${auction.id}`);
    await expect.poll(() => text(page, 'price')).toContain('500.00');
    const boundary = Date.parse(auction.next_change_at);
    await page.getByTestId('price').filter({ hasText: '450.00' }).waitFor({ timeout: 6_000 });
    expect(Date.now()).toBeGreaterThanOrEqual(boundary - 250);
    expect(Date.now() - boundary).toBeLessThan(1_500);
    // The board shows it too.
    await page.goto(service.url);
    await expect.poll(() => page.getByTestId(`auction-${auction.id}`).getByTestId('price').textContent()).toContain('450.00');
  });

  it("drops an event's seats left when another user holds", async () => {
    keepScreenshots('event-seats');
    const event = await api.event(studio.tokens.access_token, { capacity: 8 });
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${service.url}/events/${event.id}`);
    await page.getByText('Live', { exact: true }).waitFor();
    expect(await text(page, 'seats-left')).toBe('8');
    const other = await api.register('seat-taker@example.test');
    await api.call('POST', `/events/${event.id}/holds`, other.access_token, { quantity: 3 });
    await page.getByTestId('seats-left').filter({ hasText: /^5$/ }).waitFor({ timeout: 3_000 });
  });

  it('lets a studio admin create an auction that then appears on the board', async () => {
    keepScreenshots('admin-creates');
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${service.url}/signin`);
    await page.getByLabel('Email').fill('owner@example.test');
    await page.getByLabel('Password').fill('password-123');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${service.url}/studio`);
    await page.getByRole('link', { name: 'New auction' }).click();
    await page.getByLabel('Title').fill('Made in the browser');
    await page.getByLabel('Every (minutes)').fill('5');
    await expect.poll(() => page.locator('svg.chart path').count()).toBe(1);
    await page.getByRole('button', { name: 'Create auction' }).click();
    await page.waitForURL(/\/auctions\/\d+$/);
    await page.getByRole('link', { name: 'Board' }).click();
    await page.getByRole('link', { name: 'Made in the browser' }).waitFor({ timeout: 3_000 });
  });

  it("shows the API's operations in Swagger UI at /docs/", async (ctx) => {
    keepScreenshots('swagger');
    // Pending on the contract (issue 10): the /api/v1 scope answers 404 for
    // /api/v1/openapi.json before Swagger UI's own route can serve it, so the UI has no document.
    if ((await fetch(`${service.url}/api/v1/openapi.json`)).status === 404) {
      ctx.skip('pending-on-contract: GET /api/v1/openapi.json is 404 on this branch');
    }
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${service.url}/docs/`);
    await page.locator('.opblock').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(20);
    expect(await page.getByText('/api/v1/auctions/{id}/grab').count()).toBeGreaterThan(0);
    // Open an operation and try it out: its request goes to this origin, under the CSP.
    await page.locator('.opblock-summary', { hasText: '/api/v1/config' }).first().click();
    await page.getByRole('button', { name: 'Try it out' }).click();
    await page.getByRole('button', { name: 'Execute' }).click();
    await page.locator('.response .response-col_status', { hasText: '200' }).first().waitFor({ timeout: 5_000 });
    await page.locator('.models, .models-control').first().click().catch(() => undefined);
  });

  it('cannot be framed by another site, and reports what its policy refuses', async () => {
    keepScreenshots('csp');
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${service.url}/`);
    await page.getByText('Live board').first().waitFor();
    // Inline script is refused (so the watch above sees what it must).
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.head.append(script);
    });
    expect(await page.evaluate(() => (window as any).inlineRan)).toBeUndefined();
    // Another site framing the board (a clickjacking grab → confirm) gets nothing.
    const framer = await (await browser.newContext()).newPage();
    await framer.setContent(`<iframe id="victim" src="${service.url}/"></iframe>`);
    await framer.waitForTimeout(1_000);
    const framed = framer.frames().find((frame) => frame.url().startsWith(service.url));
    const shown = framed ? await framed.evaluate(() => document.body?.innerText ?? '').catch(() => '') : '';
    expect(shown).not.toContain('Live board');
    const refused = cspViolations.splice(0);
    expect(refused.some((v) => v.includes('script-src'))).toBe(true);
    expect(refused.some((v) => v.includes('frame-ancestors'))).toBe(true);
  });

  it('has no serious or critical accessibility violations on any screen', async () => {
    keepScreenshots('axe');
    const auction = await api.auction(studio.tokens.access_token, { title: 'Accessible slot' });
    const event = await api.event(studio.tokens.access_token, { title: 'Accessible event' });
    const user = await api.register('axe-user@example.test');
    const anonymous = await (await browser.newContext()).newPage();
    const customer = await (await signedIn(browser, user)).newPage();
    const owner = await (await signedIn(browser, studio.tokens)).newPage();
    const screens: [typeof anonymous, string, string][] = [
      [anonymous, '/', 'Live board'],
      [anonymous, `/auctions/${auction.id}`, 'Accessible slot'],
      [anonymous, `/events/${event.id}`, 'Accessible event'],
      [anonymous, '/signin', 'Sign in'],
      [anonymous, '/register', 'Create an account'],
      [anonymous, '/auctions/999999', 'There is no such auction'],
      [customer, '/me', 'My bookings'],
      [owner, '/studio', 'Studio'],
      [owner, '/studio/auctions/new', 'New auction'],
      [owner, '/studio/events/new', 'New event'],
      [owner, '/studio/door', 'Door'],
    ];
    const found: string[] = [];
    for (const [page, path, heading] of screens) {
      await page.goto(`${service.url}${path}`);
      // Within <main>: the header's links say "Sign in", "My bookings" and
      // "Studio" before the lazily loaded view is there to check.
      await page.locator('main').getByText(heading).first().waitFor();
      found.push(...(await axeViolations(page)).map((v) => `${path}: ${v}`));
    }
    expect(found).toEqual([]);
  });
});
