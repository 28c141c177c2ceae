// The browser tests' world: a real `hothour` binary on a SQLite temp file,
// Debian's chromium driven by playwright-core, and a few API helpers; with
// payments on, localstripe (a Stripe-compatible server with a fake Stripe.js).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, onTestFailed } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../..');
const BIN = process.env.HOTHOUR_BIN ?? join(repo, 'target/debug/hothour');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(repo, 'target/browser-tests');
export const ADMIN = { email: 'admin@example.test', password: 'admin-password-1' };

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

export interface Service {
  url: string;
  /** Where its email goes (`.eml` files). */
  mailDir: string;
  /** localstripe's address, when the service takes payments. */
  stripeUrl?: string;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** `stripe`: PAYMENTS=stripe against a localstripe of the service's own. */
  payments?: 'none' | 'stripe';
}

/** The store the tests run on: `HOTHOUR_TEST_STORE=postgres` for PostgreSQL, else SQLite. */
const STORE = process.env.HOTHOUR_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
const POSTGRES_SERVER = process.env.HOTHOUR_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

/** Any key does for localstripe; these look like Stripe's test ones. */
const STRIPE_KEYS = { secret: 'sk_test_hothour', publishable: 'pk_test_hothour', webhook: 'whsec_hothour_browser' };

/**
 * The pinned localstripe (scripts/localstripe-requirements.txt) at
 * target/test-tools/localstripe, where the cargo tests install it; installed
 * there the same way first if it is missing or pinned otherwise.
 */
function localstripeCommand(): string {
  const install = spawnSync('bash', [join(repo, 'scripts/install-localstripe.sh')], { encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`installing localstripe failed (python3 with venv and PyPI needed):\n${install.stderr}`);
  return install.stdout.trim();
}

interface Running {
  url: string;
  stop(): Promise<void>;
}

/** A localstripe of its own on a free port, started from scratch. */
async function startLocalStripe(): Promise<Running> {
  const command = localstripeCommand();
  const port = await freePort();
  const child = spawn(command, ['--port', String(port), '--from-scratch'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: unknown) => (log = (log + String(chunk)).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/js.stripe.com/v3/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300 || child.exitCode !== null) {
      await stop();
      throw new Error(`localstripe did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop };
}

export async function startService(options: ServiceOptions = {}): Promise<Service> {
  const stripe = options.payments === 'stripe' ? await startLocalStripe() : null;
  try {
    return await startHothour(stripe);
  } catch (error) {
    await stripe?.stop();
    throw error;
  }
}

async function startHothour(stripe: Running | null): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), 'hothour-browser-'));
  const port = await freePort();
  const database = `hothour_browser_${process.pid}_${port}`;
  const payments = stripe
    ? {
        PAYMENTS: 'stripe',
        STRIPE_SECRET_KEY: STRIPE_KEYS.secret,
        STRIPE_PUBLISHABLE_KEY: STRIPE_KEYS.publishable,
        STRIPE_WEBHOOK_SECRET: STRIPE_KEYS.webhook,
        STRIPE_API_BASE: stripe.url,
        STRIPE_JS_URL: `${stripe.url}/js.stripe.com/v3/`,
      }
    : { PAYMENTS: 'none' };
  const env = {
    ...process.env,
    // The browser tests run the service on its default fan-out (SQLite refuses NATS).
    NATS_URL: undefined,
    DATABASE_URL: STORE === 'postgres' ? `${POSTGRES_SERVER}/${database}` : `sqlite://${dir}/hothour.db`,
    BIND: `127.0.0.1:${port}`,
    APP_ENV: 'test',
    BCRYPT_COST: '4',
    RATE_LIMIT_AUTH_PER_MINUTE: '10000',
    RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_MINUTE: '10000',
    RATE_LIMIT_LOGIN_PER_CLIENT_PER_MINUTE: '10000',
    RATE_LIMIT_LOGIN_PER_DEVICE_PER_MINUTE: '10000',
    RATE_LIMIT_BOOKING_PER_MINUTE: '10000',
    RATE_LIMIT_WRITES_PER_MINUTE: '10000',
    HOTHOUR_ADMIN_PASSWORD: ADMIN.password,
    // Bookings are mailed: as .eml files beside the database, not into the work tree.
    MAIL_DIR: `${dir}/mail`,
    // The links in that mail lead back to this service.
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    ...payments,
  };
  const migrate = spawnSync(BIN, ['create-admin', '--email', ADMIN.email], { env, encoding: 'utf8' });
  if (migrate.status !== 0) throw new Error(`create-admin failed: ${migrate.stderr}`);
  const child: ChildProcess = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk) => (log = (log + String(chunk)).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 150 || child.exitCode !== null) {
      child.kill('SIGTERM');
      throw new Error(`hothour did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (stripe) {
    // localstripe signs every event for the service's webhook with its secret.
    const registered = await fetch(`${stripe.url}/_config/webhooks/hothour`, {
      method: 'POST',
      body: new URLSearchParams({ url: `${url}/api/v1/payments/stripe/webhook`, secret: STRIPE_KEYS.webhook }),
    });
    if (!registered.ok) {
      child.kill('SIGTERM');
      throw new Error(`registering the webhook: ${registered.status} ${await registered.text()}`);
    }
  }
  return {
    url,
    mailDir: `${dir}/mail`,
    stripeUrl: stripe?.url,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await stripe?.stop();
      rmSync(dir, { recursive: true, force: true });
      if (STORE === 'postgres') {
        spawnSync('psql', [`${POSTGRES_SERVER}/postgres`, '-qc', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`]);
      }
    },
  };
}

/** Every Content-Security-Policy violation a page reported, as `page: message`; tests fail on any. */
export const cspViolations: string[] = [];

/** Reports each CSP violation of the context's pages into {@link cspViolations}. */
async function watchCsp(context: BrowserContext): Promise<BrowserContext> {
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.effectiveDirective} refused ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  // Chromium also logs what no event reports (frame-ancestors, refused workers).
  context.on('console', (message) => {
    if (/Content Security Policy|CSP violation/i.test(message.text())) {
      cspViolations.push(`${message.page()?.url() ?? '?'}: ${message.text()}`);
    }
  });
  return context;
}

export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // Every context any test opens is watched for CSP violations.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => watchCsp(await newContext(options));
  return browser;
}

/** The text of each part of a MIME message, decoded (base64, quoted-printable or as is). */
export function mimeTexts(raw: string): string[] {
  return raw.split(/\r?\n--[^\r\n]+\r?\n/).map((part) => {
    const split = part.search(/\r?\n\r?\n/);
    const headers = split < 0 ? '' : part.slice(0, split);
    const body = split < 0 ? part : part.slice(split).trim();
    const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase();
    if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (encoding === 'quoted-printable') {
      const joined = body.replace(/=\r?\n/g, '');
      return Buffer.from(joined.replace(/=([0-9A-F]{2})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');
    }
    return body;
  });
}

/** The decoded text of every message delivered to `address` so far, oldest first. */
export function mailTo(mailDir: string, address: string): string[] {
  const files = existsSync(mailDir) ? readdirSync(mailDir).filter((f) => f.endsWith('.eml')) : [];
  return files
    .map((file) => ({ row: Number(/hothour-mail-(\d+)@/.exec(file)?.[1] ?? 0), raw: readFileSync(join(mailDir, file), 'utf8') }))
    .filter(({ raw }) => /^To:[^]*?(?=\r?\n\S)/im.exec(raw)?.[0].toLowerCase().includes(address.toLowerCase()))
    .sort((a, b) => a.row - b.row)
    .map(({ raw }) => mimeTexts(raw).join('\n'));
}

/**
 * The newest `{path}?token=…` link (`/verify`, `/reset`, `/invitations/accept`) in
 * the mail delivered to `address`, as its reader finds it: waits for the
 * service's sender to write it (files named `hothour-mail-<row>@…`).
 */
export async function emailedLink(mailDir: string, address: string, path: string): Promise<string> {
  const marker = new RegExp(`https?://[^\\s"<>]*${path.replace(/\//g, '\\/')}\\?token=[\\w-]+`);
  for (let i = 0; i < 150; i++) {
    const links = mailTo(mailDir, address).flatMap((text) => marker.exec(text)?.[0] ?? []);
    const newest = links[links.length - 1];
    if (newest) return newest;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${path} link reached ${address}`);
}

/** A tiny API client for setting the scene. */
export class Api {
  constructor(
    readonly url: string,
    readonly mailDir = '',
  ) {}

  /** The token of the newest `path` link mailed to `address`. */
  async emailedToken(address: string, path: string): Promise<string> {
    return new URL(await emailedLink(this.mailDir, address, path)).searchParams.get('token')!;
  }

  /** Makes `email` (signed in with `token`) studio `studioId`'s admin: invited, the token read from the delivered mail, accepted. */
  async appoint(studioId: number, email: string, token: string) {
    const platform = await this.login(ADMIN.email, ADMIN.password);
    await this.call('POST', `/studios/${studioId}/admins`, platform.access_token, { email });
    return this.call('POST', '/invitations/accept', token, { token: await this.emailedToken(email, '/invitations/accept') });
  }

  async call<T = any>(method: string, path: string, token?: string | null, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  login(email: string, password: string) {
    return this.call('POST', '/auth/login', null, { email, password });
  }

  register(email: string, name = email.split('@')[0]!) {
    return this.call('POST', '/auth/register', null, { email, password: 'password-123', full_name: name });
  }

  /** A studio with an admin; the admin's tokens. */
  async studio(adminEmail: string): Promise<{ studioId: number; tokens: any }> {
    const platform = await this.login(ADMIN.email, ADMIN.password);
    const studio = await this.call('POST', '/studios', platform.access_token, {
      name: `Studio ${adminEmail}`, address: 'Moda Cd. 1, Istanbul', timezone: 'Europe/Istanbul',
    });
    const admin = await this.register(adminEmail);
    await this.appoint(studio.id, adminEmail, admin.access_token);
    return { studioId: studio.id, tokens: await this.login(adminEmail, 'password-123') };
  }

  auction(token: string, fields: Record<string, unknown> = {}) {
    const now = Date.now();
    return this.call('POST', '/auctions', token, {
      title: 'Salsa at eight',
      description: 'A beginners salsa class',
      start_price: '500.00',
      floor_price: '100.00',
      drop_amount: '50.00',
      drop_interval_minutes: 1,
      starts_at: new Date(now - 1_000).toISOString(),
      ends_at: new Date(now + 3_600_000).toISOString(),
      scheduled_at: new Date(now + 7_200_000).toISOString(),
      ...fields,
    });
  }

  event(token: string, fields: Record<string, unknown> = {}) {
    const starts = Date.now() + 86_400_000;
    return this.call('POST', '/events', token, {
      title: 'Yoga on the roof', description: 'Bring a mat', capacity: 10, price: '150.00',
      starts_at: new Date(starts).toISOString(), ends_at: new Date(starts + 3_600_000).toISOString(), is_active: true,
      ...fields,
    });
  }
}

/** A browser context signed in as the holder of `tokens` (as the SPA stores a session). */
export async function signedIn(browser: Browser, tokens: any): Promise<BrowserContext> {
  const context = await browser.newContext();
  const session = JSON.stringify({
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_at: Date.now() + tokens.expires_in * 1000,
    user: tokens.user,
  });
  await context.addInitScript((value) => localStorage.setItem('hothour.session', value), session);
  return context;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Serious and critical accessibility violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol: an inline <script> would be refused by the CSP.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return result.violations as { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export async function screenshotAll(browser: Browser | null, name: string): Promise<void> {
  if (!browser) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  let i = 0;
  for (const context of browser.contexts()) {
    for (const page of context.pages()) {
      await page.screenshot({ path: join(SCREENSHOTS, `${name.replace(/[^a-z0-9]+/gi, '-')}-${i++}.png`), fullPage: true }).catch(() => undefined);
    }
  }
}

/** A phone: 360×740, touch, a language and a device time zone (Playwright context options). */
export interface Phone {
  locale?: string;
  timezoneId?: string;
  /** The language the SPA was switched to before (its remembered choice), if any. */
  lang?: 'tr' | 'en';
  tokens?: any;
}

export async function phone(browser: Browser, options: Phone = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: options.locale ?? 'tr-TR',
    timezoneId: options.timezoneId ?? 'America/New_York',
  });
  if (options.lang) await context.addInitScript((lang) => localStorage.setItem('hothour.lang', lang), options.lang);
  if (options.tokens) {
    const session = JSON.stringify({
      access_token: options.tokens.access_token,
      refresh_token: options.tokens.refresh_token,
      expires_at: Date.now() + options.tokens.expires_in * 1000,
      user: options.tokens.user,
    });
    await context.addInitScript((value) => localStorage.setItem('hothour.session', value), session);
  }
  return context;
}

/** A screenshot of one screen as it is now, kept in target/browser-tests/ (CI artefacts, the README's pictures). */
export async function screenshotScreen(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** How far the page scrolls sideways (0 when nothing is wider than the screen), and what sticks out. */
export async function sidewaysOverflow(page: Page): Promise<{ by: number; widest: string[] }> {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const by = document.documentElement.scrollWidth - width;
    const widest: string[] = [];
    if (by > 0) {
      for (const el of Array.from(document.querySelectorAll('body *'))) {
        const box = el.getBoundingClientRect();
        if (box.right > width + 0.5) widest.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(box.right)}px`);
      }
    }
    return { by, widest: widest.slice(0, 8) };
  });
}

/** What a suite of browser tests shares: one service, one browser, a studio of its own. */
export interface Suite {
  service: Service;
  browser: Browser;
  api: Api;
  studio: { studioId: number; tokens: any };
  /** Screenshots every open page as `name` when the running test fails. */
  keepScreenshots(name: string): void;
}

/** Starts a service and a browser for the file's tests, with a studio owned by `owner`;
 * each test begins with no open pages, and both stop after the last. */
export function browserSuite(owner: string): Suite {
  const suite = {
    keepScreenshots: (name: string) => onTestFailed(async () => screenshotAll(suite.browser, name)),
  } as Suite;
  beforeAll(async () => {
    suite.service = await startService();
    suite.api = new Api(suite.service.url, suite.service.mailDir);
    suite.browser = await launchBrowser();
    suite.studio = await suite.api.studio(owner);
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.service?.stop();
  });
  beforeEach(async () => {
    for (const context of suite.browser.contexts()) await context.close();
  });
  return suite;
}
