// Sign in through the example app (the dev flow), see the user and the
// session, and keep the session across a reload: cookie mode against a real
// cmd/sessiond in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, TEST_MS, skipReason, launchBrowser, newContext, uniqueUser, openApp, devSignIn, sessionsOf,
  sessionById, auditActions, count, refreshCookie, snapshot, accessToken, countRequests, isRefresh, problemsOf,
  assertNoPageErrors,
} from './support.mjs';

/** @type {import('playwright-core').Browser} */
let browser;
before(async () => {
  if (!skipReason) browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('dev sign-in shows the user and the session; the refresh token stays in an HttpOnly cookie', { skip: skipReason, timeout: TEST_MS }, async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    const user = uniqueUser('signin');
    await openApp(page);

    // Signed out at first, in cookie mode, with the dev form on offer.
    const mode = page.getByTestId('mode');
    assert.equal(await mode.getAttribute('data-mode'), 'cookie');
    assert.equal((await mode.textContent())?.trim(), 'Cookie mode');
    assert.match(await page.getByTestId('status').innerText(), /signed out/i);
    assert.equal(await refreshCookie(context), undefined, 'no refresh cookie before signing in');
    assert.equal((await sessionsOf(user)).length, 0);

    const { status, body, sessionId } = await devSignIn(page, user);
    assert.equal(status, 201, problemsOf(context));
    assert.equal(body.user_id, user);
    assert.equal(body.session_id, sessionId);
    assert.equal(typeof body.access_token, 'string');
    assert.ok(!('refresh_token' in body), 'cookie mode: no refresh_token in the response body');

    // The page shows who and which session.
    assert.equal((await page.getByTestId('user-id').textContent())?.trim(), user);
    assert.match(await page.getByTestId('status').innerText(), new RegExp(`Signed in as ${user}`));
    assert.match(await page.getByTestId('expires-in').innerText(), /^expires in \d+ (min|s)$/);
    const rows = page.getByTestId('session-row');
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().getAttribute('data-session-id'), sessionId);
    assert.equal(await rows.first().getAttribute('data-current'), 'true');
    assert.equal(await rows.first().getByTestId('this-device').count(), 1);

    // The server agrees: one live session of this user, that one.
    const listed = await sessionsOf(user);
    assert.deepEqual(listed.map((s) => s.session_id), [sessionId]);
    assert.equal(listed[0].state, 'active');
    assert.equal(listed[0].generation, 0);

    // The refresh token lives in an HttpOnly, SameSite=Strict cookie that
    // page scripts cannot read.
    const cookie = await refreshCookie(context);
    assert.ok(cookie, 'the sign-in set the refresh cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/');
    assert.match(cookie.value, /\S{20,}/);
    const visible = await page.evaluate(() => document.cookie);
    assert.ok(!visible.includes('sessiond_rt'), `document.cookie must not show the refresh cookie: ${visible}`);
    const snap = await snapshot(page);
    assert.ok(!JSON.stringify(snap).includes(cookie.value), 'the client state holds no refresh token');
    assertNoPageErrors(context);
  } finally {
    await context.close();
  }
});

test('a reload keeps the session in cookie mode (one rotation, new cookie, same session)', { skip: skipReason, timeout: TEST_MS }, async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    const user = uniqueUser('reload');
    await openApp(page);
    const { sessionId } = await devSignIn(page, user);
    const cookieBefore = (await refreshCookie(context))?.value;
    const tokenBefore = await accessToken(page);
    const genBefore = (await sessionById(user, sessionId))?.generation;
    assert.equal(genBefore, 0);

    const refreshes = countRequests(context, isRefresh);
    const [response] = await Promise.all([
      page.waitForResponse((r) => isRefresh(r.request())),
      page.reload(),
    ]);
    await page.getByTestId('user-id').filter({ hasText: user }).waitFor({ state: 'visible' });
    await page.locator(`[data-testid="session-row"][data-session-id="${sessionId}"]`).waitFor({ state: 'visible' });

    // The new page had only the cookie: it refreshed with it, once.
    assert.equal(response.status(), 200, problemsOf(context));
    const body = await response.json();
    assert.ok(!('refresh_token' in body), 'cookie mode: no refresh_token in the refresh response');
    assert.equal(body.session_id, sessionId);
    assert.equal(refreshes.stop(), 1, `refresh calls: ${refreshes.seen.join(', ')}`);

    // Same session on the page and on the server, one generation on.
    assert.equal((await page.getByTestId('session-id').textContent())?.trim(), sessionId);
    assert.equal((await snapshot(page)).status, 'signed-in');
    assert.equal((await page.getByTestId('this-device').count()), 1);
    const now = await sessionById(user, sessionId);
    assert.equal(now?.state, 'active');
    assert.equal(now?.generation, genBefore + 1);
    const actions = await auditActions(sessionId);
    assert.equal(count(actions, 'token.rotated'), 1, actions.join(' '));
    assert.equal(count(actions, 'token.reuse_detected'), 0, actions.join(' '));

    // The cookie rotated with it; the access token is a new one.
    const cookieAfter = (await refreshCookie(context))?.value;
    assert.ok(cookieAfter && cookieAfter !== cookieBefore, 'the reload rotated the refresh cookie');
    assert.notEqual(await accessToken(page), tokenBefore);
    assert.equal(await page.getByTestId('signed-out-banner').isVisible(), false);
    assertNoPageErrors(context);
  } finally {
    await context.close();
  }
});
