// One user on three devices (three browser contexts with their own cookies
// and user agents): the sessions page lists each with the right browser and
// OS and marks "this device" on the right row; a screenshot of it goes to
// out/sessions.png; then device A ends device B's session and B finds itself
// signed out on its next call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  TEST_MS, OUT_DIR, skipReason, launchBrowser, newContext, uniqueUser, openApp, devSignIn, sessionsOf,
  auditActions, snapshot, refreshCookie, problemsOf, FIREFOX_WINDOWS_UA, SAFARI_IPHONE_UA,
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

/**
 * rowsOf reads the sessions table of a page: one entry per row.
 * @param {import('playwright-core').Page} page
 */
function rowsOf(page) {
  return page.getByTestId('session-row').evaluateAll((trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute('data-session-id'),
      current: tr.getAttribute('data-current'),
      device: tr.querySelector('[data-testid="session-device"]')?.textContent?.trim(),
      badges: tr.querySelectorAll('[data-testid="this-device"]').length,
      ip: tr.querySelector('[data-testid="session-ip"]')?.textContent?.trim(),
      lastActive: tr.querySelector('[data-testid="session-last-active"] time')?.getAttribute('datetime'),
      button: tr.querySelector('[data-testid="end-session"]')?.textContent?.trim(),
    })),
  );
}

/**
 * waitForRows reloads the list until it has n rows (another device may have
 * signed in since the page last loaded it).
 * @param {import('playwright-core').Page} page @param {number} n
 */
async function waitForRows(page, n) {
  await page.getByTestId('refresh-sessions').click();
  await page.waitForFunction((want) => document.querySelectorAll('[data-testid="session-row"]').length === want, n, { timeout: 10_000 });
  return rowsOf(page);
}

const title = 'the sessions list shows each device, "this device" on the right row; A ends B and B is signed out on its next call';
test(title, { skip: skipReason, timeout: TEST_MS }, async () => {
  const user = uniqueUser('devices');
  const linux = await newContext(browser);
  const firefox = await newContext(browser, { userAgent: FIREFOX_WINDOWS_UA });
  const iphone = await newContext(browser, {
    userAgent: SAFARI_IPHONE_UA, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  try {
    const a = await linux.newPage();
    const b = await firefox.newPage();
    const c = await iphone.newPage();
    const chromeMajor = browser.version().split('.')[0];
    /** @type {Record<string, string>} */
    const ids = {};
    for (const [name, page] of /** @type {const} */ ([['a', a], ['b', b], ['c', c]])) {
      await openApp(page);
      ids[name] = (await devSignIn(page, user)).sessionId;
    }
    assert.equal(new Set(Object.values(ids)).size, 3, 'three devices, three sessions');
    const expected = {
      [ids.a]: `Chrome Headless ${chromeMajor} on Linux`,
      [ids.b]: 'Firefox 128 on Windows 10',
      [ids.c]: 'Safari 17 on iOS 17.5',
    };

    // The server recorded each device as its browser described itself.
    const server = await sessionsOf(user);
    assert.deepEqual(server.map((s) => s.session_id).sort(), Object.values(ids).sort());
    const byId = Object.fromEntries(server.map((s) => [s.session_id, s]));
    assert.equal(byId[ids.a].device?.browser, 'Chrome Headless');
    assert.equal(byId[ids.a].device?.os, 'Linux');
    assert.equal(byId[ids.b].device?.browser, 'Firefox');
    assert.equal(byId[ids.b].device?.os, 'Windows');
    assert.equal(byId[ids.b].device?.user_agent, FIREFOX_WINDOWS_UA);
    assert.equal(byId[ids.c].device?.os, 'iOS');
    assert.equal(byId[ids.c].device?.device_type, 'mobile');

    // Each page lists all three, itself first and marked, the others not.
    for (const [name, page] of /** @type {const} */ ([['a', a], ['b', b], ['c', c]])) {
      const rows = await waitForRows(page, 3);
      assert.deepEqual(rows.map((r) => r.id).sort(), Object.values(ids).sort(), `page ${name}`);
      for (const r of rows) {
        assert.equal(r.device, expected[/** @type {string} */ (r.id)], `page ${name}, row ${r.id}`);
        const mine = r.id === ids[name];
        assert.equal(r.current, String(mine), `page ${name}, row ${r.id}: data-current`);
        assert.equal(r.badges, mine ? 1 : 0, `page ${name}, row ${r.id}: "This device" badge`);
        assert.equal(r.button, mine ? 'Sign out' : 'End', `page ${name}, row ${r.id}: button`);
        assert.equal(r.ip, '127.0.0.1');
        assert.ok(r.lastActive && Math.abs(Date.parse(r.lastActive) - Date.now()) < 5 * 60_000, `last active ${r.lastActive}`);
      }
      assert.equal(rows[0].id, ids[name], `page ${name}: this device comes first`);
    }
    assert.match(await c.locator(`[data-testid="session-row"][data-session-id="${ids.c}"]`).innerText(), /mobile/);

    // The CI artifact: the sessions page of device A.
    await mkdir(OUT_DIR, { recursive: true });
    const file = path.join(OUT_DIR, 'sessions.png');
    for (const page of [a, c]) {
      // No hover or focus ring left over from the clicks above.
      await page.mouse.move(0, 0);
      await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
    }
    await a.screenshot({ path: file, fullPage: true, animations: 'disabled' });
    assert.ok((await stat(file)).size > 10_000, 'the screenshot was written');
    // And the same page on the phone, to see the narrow layout.
    const phone = path.join(OUT_DIR, 'sessions-mobile.png');
    await c.screenshot({ path: phone, fullPage: true, animations: 'disabled' });
    assert.ok((await stat(phone)).size > 10_000, 'the phone screenshot was written');

    // A ends B's session from its list.
    await a.locator(`[data-testid="end-session"][data-session-id="${ids.b}"]`).click();
    await a.getByTestId('notice').filter({ hasText: 'Ended the session on Firefox 128 on Windows 10' }).waitFor({ state: 'visible' });
    await a.locator(`[data-testid="session-row"][data-session-id="${ids.b}"]`).waitFor({ state: 'detached' });
    assert.deepEqual((await rowsOf(a)).map((r) => r.id).sort(), [ids.a, ids.c].sort());
    assert.deepEqual((await sessionsOf(user)).map((s) => s.session_id).sort(), [ids.a, ids.c].sort());
    assert.ok((await auditActions(ids.b)).includes('session.revoked'));

    // B still shows itself signed in: nothing told it yet.
    assert.equal((await snapshot(b)).status, 'signed-in');
    // Its next call (reload the list) is refused, the refresh with its
    // cookie too: B is signed out and says why.
    const [list] = await Promise.all([
      b.waitForResponse((r) => new URL(r.url()).pathname === '/api/sessions' && r.request().method() === 'GET'),
      b.getByTestId('refresh-sessions').click(),
    ]);
    assert.equal(list.status(), 401, problemsOf(firefox));
    const banner = b.getByTestId('signed-out-banner');
    await banner.waitFor({ state: 'visible' });
    assert.equal(await banner.getAttribute('data-reason'), 'invalid_grant');
    await b.getByTestId('dev-sign-in-form').waitFor({ state: 'visible' });
    assert.equal(await b.getByTestId('session-row').count(), 0);
    assert.equal((await snapshot(b)).status, 'signed-out');
    assert.equal(await refreshCookie(firefox), undefined, "the server cleared B's dead cookie");

    // A and C are untouched.
    for (const [page, id] of /** @type {const} */ ([[a, ids.a], [c, ids.c]])) {
      const rows = await waitForRows(page, 2);
      assert.equal(rows.find((r) => r.current === 'true')?.id, id);
      assert.equal((await snapshot(page)).status, 'signed-in');
    }
    assertNoPageErrors(linux);
    assertNoPageErrors(firefox);
    assertNoPageErrors(iphone);
  } finally {
    await Promise.all([linux.close(), firefox.close(), iphone.close()]);
  }
});
