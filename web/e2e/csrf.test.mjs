// The CSRF defence of cookie mode, in a real browser: pages of another origin
// (a tiny HTTP server of this test on another loopback port) post forms and
// fetches to /api/refresh and /api/revoke with the user's cookie; the server
// refuses them and the session is untouched. A same-origin request without
// the X-Sessiond-CSRF header is refused too. Then, as the control, the same
// request with the header succeeds.
//
// 127.0.0.1 on another port is cross-origin but same-site, so the browser
// does send the SameSite=Strict cookie there: what stops these requests is
// the server's Origin and header check, not SameSite. From "localhost" (a
// different site) the cookie is not even sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  BASE, TEST_MS, WAIT_MS, skipReason, launchBrowser, newContext, uniqueUser, openApp, devSignIn, sessionById,
  sessionsOf, auditActions, count, refreshCookie, snapshot, problemsOf,
  assertNoPageErrors,
} from './support.mjs';

/** @type {import('playwright-core').Browser} */
let browser;
/** @type {http.Server} */
let evil;
let evilPort = 0;

/** The attacker's page: plain HTML forms aimed at the service, nothing else. */
function attackPage() {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>win a prize</title></head><body>
<form id="refresh" method="POST" action="${BASE}/api/refresh">
  <input type="hidden" name="grant_type" value="refresh_token">
</form>
<form id="revoke" method="POST" action="${BASE}/api/revoke">
  <input type="hidden" name="token_type_hint" value="refresh_token">
</form>
<form id="refresh-json" method="POST" action="${BASE}/api/refresh" enctype="text/plain">
  <input type="hidden" name='{"device":{"x":"' value='"}}'>
</form>
</body></html>`;
}

before(async () => {
  if (skipReason) return;
  evil = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(attackPage());
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((resolve, reject) => {
    evil.once('error', reject);
    evil.listen(0, '127.0.0.1', resolve);
  });
  evilPort = /** @type {import('node:net').AddressInfo} */ (evil.address()).port;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (evil) {
    evil.closeAllConnections();
    await new Promise((resolve) => evil.close(resolve));
  }
});

/** isPost matches a POST to the service's path. */
const isPost = (/** @type {string} */ pathname) => (/** @type {import('playwright-core').Response} */ r) =>
  r.request().method() === 'POST' && r.url() === `${BASE}${pathname}`;

/**
 * submit posts one of the attack page's forms (a top-level navigation, as a
 * victim clicking a link would do) and returns the service's answer.
 * @param {import('playwright-core').Page} page @param {string} origin @param {string} form @param {string} pathname
 */
async function submit(page, origin, form, pathname) {
  await page.goto(`${origin}/`);
  const [response] = await Promise.all([
    page.waitForResponse(isPost(pathname), { timeout: WAIT_MS }),
    page.evaluate((id) => /** @type {HTMLFormElement} */ (document.getElementById(id)).submit(), form),
  ]);
  const headers = await response.request().allHeaders();
  return {
    status: response.status(),
    body: await response.text(),
    sentCookie: /(^|;\s*)(__Host-)?sessiond_rt=/.test(headers.cookie ?? ''),
    origin: headers.origin,
    setCookie: (await response.allHeaders())['set-cookie'],
  };
}

test('cookie mode refuses cross-origin forms and fetches and same-origin requests without the CSRF header', { skip: skipReason, timeout: TEST_MS }, async () => {
  const context = await newContext(browser);
  try {
    const user = uniqueUser('csrf');
    const app = await context.newPage();
    await openApp(app);
    const { sessionId } = await devSignIn(app, user);
    const cookie = await refreshCookie(context);
    assert.ok(cookie, 'signed in with a refresh cookie');
    assert.equal((await sessionById(user, sessionId))?.generation, 0);

    const sameSite = `http://127.0.0.1:${evilPort}`;
    const crossSite = `http://localhost:${evilPort}`;
    const attacker = await context.newPage();

    // 1. Forms from another origin of the same site: the browser sends the
    //    cookie, the server refuses (no allowed Origin, no CSRF header) and
    //    leaves the cookie alone.
    for (const [form, pathname] of [['refresh', '/api/refresh'], ['revoke', '/api/revoke']]) {
      const r = await submit(attacker, sameSite, form, pathname);
      assert.equal(r.sentCookie, true, `${form}: the same-site form carried the cookie (else this would test SameSite, not the check)`);
      assert.equal(r.origin, sameSite);
      assert.equal(r.status, 403, `${form} form: ${r.body}`);
      assert.equal(JSON.parse(r.body).error, 'forbidden');
      assert.equal(r.setCookie, undefined, `${form} form: the cookie must not be touched`);
    }
    // A text/plain form dressed up as JSON is not taken as a body at all.
    const plain = await submit(attacker, sameSite, 'refresh-json', '/api/refresh');
    assert.ok(plain.status >= 400 && plain.status < 500, `text/plain form: ${plain.status} ${plain.body}`);
    assert.equal(plain.setCookie, undefined);

    // 2. From another site the SameSite=Strict cookie is not even sent.
    for (const [form, pathname] of [['refresh', '/api/refresh'], ['revoke', '/api/revoke']]) {
      const r = await submit(attacker, crossSite, form, pathname);
      assert.equal(r.sentCookie, false, `${form}: a cross-site form must not carry the cookie`);
      assert.ok(r.status === 400 || r.status === 403, `${form} cross-site: ${r.status} ${r.body}`);
      assert.equal(r.setCookie, undefined);
    }

    // 3. Fetches from the attacker's origin, with credentials.
    await attacker.goto(`${sameSite}/`);
    for (const pathname of ['/api/refresh', '/api/revoke']) {
      // A "simple" no-cors request needs no preflight: it reaches the server
      // with the cookie, and is refused there.
      const [response, result] = await Promise.all([
        attacker.waitForResponse(isPost(pathname)),
        attacker.evaluate(async (url) => {
          const res = await fetch(url, {
            method: 'POST', mode: 'no-cors', credentials: 'include',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token',
          });
          return res.type;
        }, BASE + pathname),
      ]);
      assert.equal(result, 'opaque');
      // 403, not the 400 of "no token and no cookie": the cookie came along.
      assert.equal(response.status(), 403, `no-cors fetch ${pathname}`);
      // With the CSRF header it needs a CORS preflight, which the server
      // refuses for this origin: the browser never sends the POST.
      const outcome = await attacker.evaluate(async (url) => {
        try {
          const res = await fetch(url, {
            method: 'POST', credentials: 'include',
            headers: { 'Content-Type': 'application/json', 'X-Sessiond-CSRF': '1' }, body: '{}',
          });
          return `answered ${res.status}`;
        } catch (err) {
          return err instanceof TypeError ? 'blocked' : `threw ${err}`;
        }
      }, BASE + pathname);
      assert.equal(outcome, 'blocked', `CORS fetch with the CSRF header to ${pathname}`);
    }

    // 4. Same origin (the app's own page) but without the CSRF header.
    const mallory = uniqueUser('mallory');
    const sameOrigin = await app.evaluate(async (victim) => {
      const out = {};
      for (const path of ['/api/refresh', '/api/revoke']) {
        const res = await fetch(path, { method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' }, body: '{}' });
        out[path] = { status: res.status, error: (await res.json()).error };
      }
      // Login CSRF: signing this browser into someone else's account.
      const res = await fetch('/dev/sign-in', {
        method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user_id: victim }),
      });
      out['/dev/sign-in'] = { status: res.status, error: (await res.json()).error };
      return out;
    }, mallory);
    assert.deepEqual(sameOrigin['/api/refresh'], { status: 403, error: 'forbidden' });
    assert.deepEqual(sameOrigin['/api/revoke'], { status: 403, error: 'forbidden' });
    assert.deepEqual(sameOrigin['/dev/sign-in'], { status: 403, error: 'forbidden' });

    // 5. Outside a browser, with the cookie's value and the header: a
    //    missing, foreign or null Origin still fails.
    for (const origin of [undefined, 'http://evil.example', sameSite, 'null']) {
      const res = await fetch(`${BASE}/api/refresh`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json', 'X-Sessiond-CSRF': '1', Cookie: `${cookie.name}=${cookie.value}`,
          ...(origin ? { Origin: origin } : {}),
        },
        body: '{}',
        signal: AbortSignal.timeout(WAIT_MS),
      });
      assert.equal(res.status, 403, `Origin ${origin ?? '(none)'}: ${await res.text()}`);
    }

    // Nothing of that touched the session: same generation, same cookie,
    // nothing rotated or revoked, the page still works.
    const s = await sessionById(user, sessionId);
    assert.equal(s?.state, 'active');
    assert.equal(s?.generation, 0);
    assert.equal((await refreshCookie(context))?.value, cookie.value, 'the cookie is unchanged');
    const actions = await auditActions(sessionId);
    for (const a of ['token.rotated', 'token.revoked', 'session.revoked', 'token.reuse_detected']) {
      assert.equal(count(actions, a), 0, `${a} in ${actions.join(' ')}`);
    }
    assert.equal((await sessionsOf(mallory)).length, 0, 'no session was created by the login CSRF attempt');
    await app.getByTestId('refresh-sessions').click();
    await app.locator(`[data-testid="session-row"][data-session-id="${sessionId}"][data-current="true"]`).waitFor({ state: 'visible' });
    assert.equal((await snapshot(app)).status, 'signed-in', problemsOf(context));

    // The control: the app's own request, with the header, is accepted.
    const control = await app.evaluate(async () => {
      const res = await fetch('/api/refresh', {
        method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json', 'X-Sessiond-CSRF': '1' }, body: '{}',
      });
      return { status: res.status, session: (await res.json()).session_id };
    });
    assert.deepEqual(control, { status: 200, session: sessionId });
    assert.equal((await sessionById(user, sessionId))?.generation, 1);
    assert.notEqual((await refreshCookie(context))?.value, cookie.value, 'the accepted refresh rotated the cookie');
    assertNoPageErrors(context);
  } finally {
    await context.close();
  }
});
