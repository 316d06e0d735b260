// Shared helpers of the browser tests (web/e2e/*.test.mjs): the browser
// launch, the server's admin view (sessions, audit), and the example app's
// sign-in. Not a test file itself: `node --test` only runs *.test.mjs here.
//
// The tests run against a real cmd/sessiond that scripts/browser-test.sh
// builds and starts; they read it from the environment:
//
//   SESSIOND_URL        the cookie-mode server (SESSION_COOKIE_MODE=1), e.g. http://127.0.0.1:41234
//   SESSIOND_TOKEN_URL  a token-mode server (optional: its tests skip without it)
//   SESSION_ADMIN_KEY   the admin key both servers were started with
//   CHROMIUM            the browser binary (default /usr/bin/chromium, Debian's package)
//   E2E_OUT_DIR         where screenshots go (default out/ at the repository root)
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const BASE = (process.env.SESSIOND_URL ?? '').replace(/\/+$/, '');
export const TOKEN_BASE = (process.env.SESSIOND_TOKEN_URL ?? '').replace(/\/+$/, '');
export const ADMIN_KEY = process.env.SESSION_ADMIN_KEY ?? '';
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const OUT_DIR = process.env.E2E_OUT_DIR || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../out');

/**
 * skipReason is what a test gives node:test's `skip` option: false when the
 * cookie-mode server and the admin key are known, else why not. Run
 * scripts/browser-test.sh rather than these files alone.
 */
export const skipReason =
  BASE && ADMIN_KEY ? false : 'SESSIOND_URL and SESSION_ADMIN_KEY are not set: run scripts/browser-test.sh';

/** Bounds on every wait, so a hung browser or server fails the test instead of the CI job. */
export const WAIT_MS = 10_000;
export const TEST_MS = 45_000;

// Debian's chromium, headless, with nothing that talks to the network behind
// the tests' back (component updates, sync, QUIC probes).
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  // Containers often give /dev/shm only 64 MB, too little for Chromium.
  '--disable-dev-shm-usage',
];

/** launchBrowser starts headless Chromium. */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
}

/** A desktop Firefox on Windows 10 and Safari on an iPhone, as another device would send them. */
export const FIREFOX_WINDOWS_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
export const SAFARI_IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/**
 * newContext opens a browser context (one "browser profile": its own
 * cookies, one device) with bounded waits. Page errors and console errors
 * are kept in `context.problems` so a failing test can print them.
 * @param {import('playwright-core').Browser} browser
 * @param {import('playwright-core').BrowserContextOptions} [options]
 */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-GB', timezoneId: 'Europe/Berlin', ...options });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  /** @type {string[]} */
  const problems = [];
  context.on('page', (page) => watch(page, problems));
  return Object.assign(context, { problems });
}

/** @param {import('playwright-core').Page} page @param {string[]} problems */
function watch(page, problems) {
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
}

/** uniqueUser returns a user id no other test (or earlier run) uses. */
export function uniqueUser(prefix) {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/**
 * admin calls the server's API with the admin key and returns {status, json}.
 * @param {string} pathAndQuery e.g. `/api/sessions?user_id=alice`
 * @param {{base?: string, method?: string, body?: any}} [options]
 */
export async function admin(pathAndQuery, { base = BASE, method = 'GET', body } = {}) {
  const res = await fetch(base + pathAndQuery, {
    method,
    headers: {
      Authorization: `Bearer ${ADMIN_KEY}`,
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json, text };
}

/** sessionsOf lists a user's live sessions as the server sees them (admin list). */
export async function sessionsOf(userId, base = BASE) {
  const { status, json, text } = await admin(`/api/sessions?user_id=${encodeURIComponent(userId)}`, { base });
  if (status !== 200 || !Array.isArray(json?.sessions)) {
    throw new Error(`admin list of ${userId}: HTTP ${status}: ${text.slice(0, 300)}`);
  }
  return json.sessions;
}

/** sessionById returns one live session of the user, or undefined when the server no longer lists it. */
export async function sessionById(userId, sessionId, base = BASE) {
  return (await sessionsOf(userId, base)).find((s) => s.session_id === sessionId);
}

/**
 * auditActions returns the actions of a session's audit trail, oldest first
 * (the server pages newest first; 500 is far more than a test writes).
 */
export async function auditActions(sessionId, base = BASE) {
  const { status, json, text } = await admin(`/api/audit?session_id=${encodeURIComponent(sessionId)}&limit=500`, { base });
  if (status !== 200 || !Array.isArray(json?.events)) {
    throw new Error(`audit of ${sessionId}: HTTP ${status}: ${text.slice(0, 300)}`);
  }
  return json.events.map((e) => e.action).reverse();
}

/** count is how many times `action` occurs in a list of audit actions. */
export function count(actions, action) {
  return actions.filter((a) => a === action).length;
}

/**
 * openApp loads the example app and waits until it has settled (signed in
 * or signed out: the status line no longer says "Checking").
 * @param {import('playwright-core').Page} page
 */
export async function openApp(page, base = BASE) {
  await page.goto(`${base}/`);
  await page.waitForFunction(() => {
    const s = window.sessiondApp?.client?.snapshot?.().status;
    return s === 'signed-in' || s === 'signed-out';
  }, null, { timeout: WAIT_MS });
}

/**
 * devSignIn signs in through the example app's dev form and waits until the
 * page shows the user and its sessions list. Returns the sign-in response's
 * JSON (what the server sent the browser) and the session id on the page.
 * @param {import('playwright-core').Page} page
 * @param {string} userId
 */
export async function devSignIn(page, userId) {
  await page.getByTestId('dev-sign-in-form').waitFor({ state: 'visible' });
  await page.getByTestId('dev-user-id').fill(userId);
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/dev/sign-in' && r.request().method() === 'POST'),
    page.getByTestId('dev-sign-in').click(),
  ]);
  const body = await response.json();
  await page.getByTestId('user-id').filter({ hasText: userId }).waitFor({ state: 'visible' });
  const sessionId = (await page.getByTestId('session-id').textContent())?.trim();
  await page.locator(`[data-testid="session-row"][data-session-id="${sessionId}"]`).waitFor({ state: 'visible' });
  return { status: response.status(), body, sessionId };
}

/** snapshot returns the page's client state (never a token). @param {import('playwright-core').Page} page */
export function snapshot(page) {
  return page.evaluate(() => window.sessiondApp.client.snapshot());
}

/**
 * accessToken asks the page's client for its current access token (for
 * comparing tabs; the token stays in the test process).
 * @param {import('playwright-core').Page} page
 */
export function accessToken(page) {
  return page.evaluate(() => window.sessiondApp.client.getAccessToken());
}

/**
 * countRequests counts the requests of a context (all its pages) that match,
 * from now until the returned stop() is called.
 * @param {import('playwright-core').BrowserContext} context
 * @param {(r: import('playwright-core').Request) => boolean} match
 */
export function countRequests(context, match) {
  /** @type {string[]} */
  const seen = [];
  const on = (/** @type {import('playwright-core').Request} */ r) => {
    if (match(r)) seen.push(`${r.method()} ${new URL(r.url()).pathname}`);
  };
  context.on('request', on);
  return {
    seen,
    stop() {
      context.off('request', on);
      return seen.length;
    },
  };
}

/** isRefresh matches POST /api/refresh. @param {import('playwright-core').Request} r */
export const isRefresh = (r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/refresh';

/**
 * refreshAtOnce makes every page's client call refresh() at the same wall
 * clock moment (the pages share one clock), as the README suggests.
 * @param {import('playwright-core').Page[]} pages
 */
export async function refreshAtOnce(pages, delayMs = 400) {
  const at = Date.now() + delayMs;
  return Promise.all(
    pages.map((p) =>
      p.evaluate(
        (t) =>
          new Promise((r) => setTimeout(r, Math.max(0, t - Date.now()))).then(() =>
            window.sessiondApp.client.refresh().then((s) => s.status),
          ),
        at,
      ),
    ),
  );
}

/** refreshCookie returns the context's refresh cookie (either name), or undefined. */
export async function refreshCookie(context, base = BASE) {
  const cookies = await context.cookies(base);
  return cookies.find((c) => c.name === 'sessiond_rt' || c.name === '__Host-sessiond_rt');
}

/** problemsOf formats what went wrong in a context's pages, for an assertion message. */
export function problemsOf(context) {
  return context.problems.length ? `\npage problems:\n  ${context.problems.join('\n  ')}` : '';
}

/**
 * assertNoPageErrors fails on an uncaught exception in any page of the
 * context or on a Content-Security-Policy violation (the app must need no
 * inline script or style). Failed requests the tests provoke (400, 401, 403)
 * are expected console noise and not counted.
 * @param {import('playwright-core').BrowserContext & {problems: string[]}} context
 */
export function assertNoPageErrors(context) {
  const bad = context.problems.filter((p) => p.startsWith('pageerror:') || /Content Security Policy/i.test(p));
  assert.deepEqual(bad, [], 'uncaught errors or CSP violations in the pages');
}
