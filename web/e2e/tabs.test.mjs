// Three tabs of one browser (pages of one context, so one cookie jar, one
// origin's Web Locks and BroadcastChannels) refresh at the same moment: the
// server sees exactly one rotation and every tab stays signed in with the
// same new access token. Then a sign-out in one tab signs out the others.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  TEST_MS, skipReason, launchBrowser, newContext, uniqueUser, openApp, devSignIn, sessionById,
  auditActions, count, snapshot, accessToken, countRequests, isRefresh, refreshAtOnce, refreshCookie, problemsOf,
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

test('three tabs refreshing at the same moment cause one rotation and all stay signed in', { skip: skipReason, timeout: TEST_MS }, async () => {
  const context = await newContext(browser);
  try {
    const user = uniqueUser('tabs');
    const first = await context.newPage();
    await openApp(first);
    const { sessionId } = await devSignIn(first, user);

    // Two more tabs: they take the session from the open tab, without a
    // refresh of their own.
    const opening = countRequests(context, isRefresh);
    const others = [await context.newPage(), await context.newPage()];
    for (const page of others) {
      await openApp(page);
      await page.getByTestId('user-id').filter({ hasText: user }).waitFor({ state: 'visible' });
    }
    const tabs = [first, ...others];
    for (const page of tabs) {
      const s = await snapshot(page);
      assert.equal(s.status, 'signed-in');
      assert.equal(s.sessionId, sessionId);
    }
    assert.equal(opening.stop(), 0, `new tabs asked the server instead of the open tab: ${opening.seen.join(', ')}`);
    const initial = await sessionById(user, sessionId);
    assert.equal(initial?.generation, 0);
    const tokensBefore = await Promise.all(tabs.map(accessToken));
    assert.equal(new Set(tokensBefore).size, 1, 'the tabs share one access token');
    const cookieBefore = (await refreshCookie(context))?.value;

    // All three at once.
    const refreshes = countRequests(context, isRefresh);
    const statuses = await refreshAtOnce(tabs);
    assert.deepEqual(statuses, ['signed-in', 'signed-in', 'signed-in'], problemsOf(context));

    // One request left the browser, and the server rotated once.
    assert.equal(refreshes.stop(), 1, `refresh calls: ${refreshes.seen.join(', ')}`);
    const rotated = await sessionById(user, sessionId);
    assert.equal(rotated?.state, 'active');
    assert.equal(rotated?.generation, 1, 'exactly one rotation');
    const actions = await auditActions(sessionId);
    assert.equal(count(actions, 'token.rotated'), 1, actions.join(' '));
    assert.equal(count(actions, 'token.reuse_detected'), 0, actions.join(' '));

    // Every tab holds the same, new access token and still works.
    const tokensAfter = await Promise.all(tabs.map(accessToken));
    assert.equal(new Set(tokensAfter).size, 1, 'every tab ends with the same access token');
    assert.notEqual(tokensAfter[0], tokensBefore[0], 'the access token is a new one');
    assert.notEqual((await refreshCookie(context))?.value, cookieBefore, 'the refresh cookie rotated');
    for (const page of tabs) {
      await page.getByTestId('refresh-sessions').click();
      await page.locator(`[data-testid="session-row"][data-session-id="${sessionId}"][data-current="true"]`).waitFor({ state: 'visible' });
      assert.equal(await page.getByTestId('signed-out-banner').isVisible(), false);
      assert.equal(await page.getByTestId('error').isVisible(), false, await page.getByTestId('error').innerText());
      assert.equal((await snapshot(page)).status, 'signed-in');
    }
    // Listing with the new token in every tab needed no further refresh.
    assert.equal((await sessionById(user, sessionId))?.generation, 1);
    assertNoPageErrors(context);
  } finally {
    await context.close();
  }
});

test('signing out in one tab signs out the other tabs and ends the session on the server', { skip: skipReason, timeout: TEST_MS }, async () => {
  const context = await newContext(browser);
  try {
    const user = uniqueUser('tabs-out');
    const a = await context.newPage();
    await openApp(a);
    const { sessionId } = await devSignIn(a, user);
    const b = await context.newPage();
    await openApp(b);
    await b.getByTestId('user-id').filter({ hasText: user }).waitFor({ state: 'visible' });

    const [revoke] = await Promise.all([
      a.waitForResponse((r) => new URL(r.url()).pathname === '/api/revoke'),
      a.getByTestId('sign-out').click(),
    ]);
    assert.equal(revoke.status(), 200, problemsOf(context));
    await a.getByTestId('dev-sign-in-form').waitFor({ state: 'visible' });

    // Tab B learns it at once, from tab A: no server call needed.
    const banner = b.getByTestId('signed-out-banner');
    await banner.waitFor({ state: 'visible' });
    assert.equal(await banner.getAttribute('data-reason'), 'logout');
    assert.match(await banner.innerText(), /another tab/);
    await b.getByTestId('dev-sign-in-form').waitFor({ state: 'visible' });
    assert.equal((await snapshot(b)).status, 'signed-out');

    // The server ended it and the cookie is gone.
    assert.equal(await sessionById(user, sessionId), undefined, 'the session is no longer listed');
    assert.equal(await refreshCookie(context), undefined, 'the refresh cookie was cleared');
    const actions = await auditActions(sessionId);
    assert.ok(actions.includes('session.revoked'), actions.join(' '));
    assertNoPageErrors(context);
  } finally {
    await context.close();
  }
});
