// Token mode (the default server) in the browser: no cookie, the refresh
// token in page memory and shared by the tabs. Three tabs refreshing at once
// must still rotate once: a tab presenting a superseded refresh token would
// look like theft to the server and end the session. A reload keeps the
// session only while another tab is open (the trade-off web/README.md
// documents).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  TOKEN_BASE, ADMIN_KEY, TEST_MS, launchBrowser, newContext, uniqueUser, openApp, devSignIn, sessionById,
  auditActions, count, snapshot, accessToken, countRequests, isRefresh, refreshAtOnce, problemsOf,
  assertNoPageErrors,
} from './support.mjs';

const skip = TOKEN_BASE && ADMIN_KEY ? false : 'SESSIOND_TOKEN_URL and SESSION_ADMIN_KEY are not set: run scripts/browser-test.sh';

/** @type {import('playwright-core').Browser} */
let browser;
before(async () => {
  if (!skip) browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('token mode: no cookie; three tabs refreshing at once rotate once and all stay signed in', { skip, timeout: TEST_MS }, async () => {
  const context = await newContext(browser);
  try {
    const user = uniqueUser('token-tabs');
    const first = await context.newPage();
    await openApp(first, TOKEN_BASE);
    assert.equal(await first.getByTestId('mode').getAttribute('data-mode'), 'token');
    const { status, body, sessionId } = await devSignIn(first, user);
    assert.equal(status, 201, problemsOf(context));
    assert.equal(typeof body.refresh_token, 'string', 'token mode: the refresh token is in the body');
    assert.deepEqual(await context.cookies(TOKEN_BASE), [], 'token mode sets no cookie');
    assert.equal(await first.evaluate(() => localStorage.length + sessionStorage.length), 0, 'nothing in web storage');

    const others = [await context.newPage(), await context.newPage()];
    for (const page of others) {
      await openApp(page, TOKEN_BASE);
      await page.getByTestId('user-id').filter({ hasText: user }).waitFor({ state: 'visible' });
    }
    const tabs = [first, ...others];
    const tokensBefore = await Promise.all(tabs.map(accessToken));
    assert.equal(new Set(tokensBefore).size, 1);

    const refreshes = countRequests(context, isRefresh);
    const statuses = await refreshAtOnce(tabs);
    assert.deepEqual(statuses, ['signed-in', 'signed-in', 'signed-in'], problemsOf(context));
    assert.equal(refreshes.stop(), 1, `refresh calls: ${refreshes.seen.join(', ')}`);

    const s = await sessionById(user, sessionId, TOKEN_BASE);
    assert.equal(s?.state, 'active', 'a second presentation of the old token would have ended the session');
    assert.equal(s?.generation, 1);
    const actions = await auditActions(sessionId, TOKEN_BASE);
    assert.equal(count(actions, 'token.rotated'), 1, actions.join(' '));
    assert.equal(count(actions, 'token.reuse_detected'), 0, actions.join(' '));

    const tokensAfter = await Promise.all(tabs.map(accessToken));
    assert.equal(new Set(tokensAfter).size, 1, 'every tab ends with the same access token');
    assert.notEqual(tokensAfter[0], tokensBefore[0]);

    // A second round from another tab uses the rotated refresh token: a tab
    // left holding the old one would be refused (and end the session).
    const second = countRequests(context, isRefresh);
    assert.deepEqual(await refreshAtOnce([others[1], first, others[0]]), ['signed-in', 'signed-in', 'signed-in'], problemsOf(context));
    assert.equal(second.stop(), 1, `refresh calls: ${second.seen.join(', ')}`);
    const again = await sessionById(user, sessionId, TOKEN_BASE);
    assert.equal(again?.state, 'active');
    assert.equal(again?.generation, 2);
    assert.equal(count(await auditActions(sessionId, TOKEN_BASE), 'token.reuse_detected'), 0);
    assertNoPageErrors(context);
  } finally {
    await context.close();
  }
});

test('token mode: a reload keeps the session while another tab is open, and loses it when it is the only tab', { skip, timeout: TEST_MS }, async () => {
  const context = await newContext(browser);
  try {
    const user = uniqueUser('token-reload');
    const a = await context.newPage();
    await openApp(a, TOKEN_BASE);
    const { sessionId } = await devSignIn(a, user);
    const b = await context.newPage();
    await openApp(b, TOKEN_BASE);
    await b.getByTestId('user-id').filter({ hasText: user }).waitFor({ state: 'visible' });

    // B reloads while A is open: A hands it the session, no server call.
    const refreshes = countRequests(context, isRefresh);
    await b.reload();
    await b.getByTestId('user-id').filter({ hasText: user }).waitFor({ state: 'visible' });
    assert.equal((await snapshot(b)).sessionId, sessionId);
    assert.equal(refreshes.stop(), 0, `refresh calls: ${refreshes.seen.join(', ')}`);

    // Alone, a reload has nothing to restore from: signed out here, while
    // the session itself lives on at the server until it times out.
    await b.close();
    await a.reload();
    await a.getByTestId('dev-sign-in-form').waitFor({ state: 'visible' });
    assert.equal((await snapshot(a)).status, 'signed-out');
    assert.equal((await sessionById(user, sessionId, TOKEN_BASE))?.state, 'active');
    assertNoPageErrors(context);
  } finally {
    await context.close();
  }
});
