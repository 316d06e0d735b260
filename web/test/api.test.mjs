// The session API calls: what goes on the wire in each mode (CSRF header,
// credentials, where the refresh token travels), logout, the session list,
// ending sessions, and sign-in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSessionClient, CSRF_HEADER, SessionError, decodeJwtPayload, createPkce } from '../session-client.js';
import { FakeClock, FakeServer } from '../test-support/fakes.mjs';

const BASE = 'https://auth.test';

function setup(mode, extra = {}) {
  const clock = new FakeClock();
  const server = new FakeServer({ mode, ttl: 900, origin: BASE });
  const client = createSessionClient({
    baseUrl: BASE, mode, fetch: server.fetch, now: clock.now, timers: clock, locks: null, broadcastChannel: null, device: null, ...extra,
  });
  return { clock, server, client };
}

test('options are validated', () => {
  assert.throws(() => createSessionClient({ baseUrl: BASE, mode: 'both', fetch: () => {} }), /mode/);
  assert.throws(() => createSessionClient({ mode: 'token', fetch: () => {} }), /baseUrl/);
  assert.throws(() => createSessionClient({ baseUrl: BASE, fetch: () => {}, refreshRatio: 1.5, broadcastChannel: null }), /refreshRatio/);
  assert.throws(() => createSessionClient({ baseUrl: BASE, fetch: () => {}, maxRetries: -1, broadcastChannel: null }), /maxRetries/);
});

test('cookie mode refresh: no token in the body, the CSRF header, credentials included', async (t) => {
  const { server, client } = setup('cookie');
  t.after(() => client.close());
  // A back end that forgot to strip the refresh token: the client must not use or keep it.
  client.setSession({ ...server.createSession('alice'), refresh_token: 'leaked-in-body' });
  await client.refresh();
  const [req] = server.requestsTo('/api/refresh');
  assert.equal(req.headers.get(CSRF_HEADER), '1');
  assert.equal(req.headers.get('Content-Type'), 'application/json');
  assert.equal(req.credentials, 'include');
  assert.deepEqual(req.body, {}, 'no refresh_token in the body');
  assert.equal(server.rotations, 1);
});

test('cookie mode: the server\'s CSRF refusal (403) is not a sign-out', async (t) => {
  const server = new FakeServer({ mode: 'cookie', ttl: 900, origin: BASE });
  server.createSession('alice');
  // A client mistakenly in token mode sends neither the header nor credentials.
  const client = createSessionClient({ baseUrl: BASE, mode: 'cookie', locks: null, broadcastChannel: null, device: null,
    fetch: (url, init) => server.fetch(url, { ...init, headers: { 'Content-Type': 'application/json' } }) });
  t.after(() => client.close());
  const err = await client.restore().catch((e) => e);
  assert.ok(err instanceof SessionError);
  assert.equal(err.code, 'forbidden');
  assert.equal(client.snapshot().status, 'unknown');
});

test('token mode refresh: the refresh token in the JSON body, no CSRF header, no cookies', async (t) => {
  const { server, client } = setup('token');
  t.after(() => client.close());
  const created = server.createSession('alice');
  client.setSession(created);
  await client.refresh();
  const [req] = server.requestsTo('/api/refresh');
  assert.deepEqual(req.body, { refresh_token: created.refresh_token });
  assert.equal(req.headers.get(CSRF_HEADER), null);
  assert.notEqual(req.credentials, 'include');
  // The rotated token is used next time.
  await client.refresh();
  assert.notEqual(server.requestsTo('/api/refresh')[1].body.refresh_token, created.refresh_token);
  assert.equal(server.reuse + server.graceHits, 0);
});

test('the device fingerprint goes with sign-in and refresh', async (t) => {
  const device = { browser: 'Firefox', os: 'Linux', screen_width: 1920 };
  const { server, client } = setup('token', { device });
  t.after(() => client.close());
  await client.signInWithIdToken({ idToken: 'id.tok.en' });
  assert.deepEqual(server.requestsTo('/api/sessions')[0].body, { id_token: 'id.tok.en', device });
  await client.refresh();
  assert.deepEqual(server.requestsTo('/api/refresh')[0].body.device, device);
});

test('signInWithCode posts the code, verifier and redirect URI and adopts the session', async (t) => {
  const { server, client } = setup('cookie');
  t.after(() => client.close());
  const changes = [];
  client.on('change', (s) => changes.push(s.status));
  const state = await client.signInWithCode({ code: 'c0de', codeVerifier: 'v'.repeat(43), redirectUri: 'https://app.test/', device: { os: 'X' } });
  const [req] = server.requestsTo('/api/sessions');
  assert.equal(req.method, 'POST');
  assert.deepEqual(req.body, { code: 'c0de', code_verifier: 'v'.repeat(43), redirect_uri: 'https://app.test/', device: { os: 'X' } });
  assert.equal(req.headers.get(CSRF_HEADER), '1', 'creating a cookie session is CSRF-protected too');
  assert.equal(req.credentials, 'include');
  assert.equal(state.status, 'signed-in');
  assert.equal(state.userId, 'code-user');
  assert.deepEqual(changes, ['signed-in']);
});

test('a refused sign-in rejects with the server\'s error code', async (t) => {
  const { client } = setup('token');
  t.after(() => client.close());
  await assert.rejects(client.signInVia('/api/sessions', { user_id: 'x' }), (e) => e instanceof SessionError && e.code === 'unauthorized' && e.status === 401);
  assert.equal(client.snapshot().status, 'unknown');
});

test('cookie mode logout: POST /api/revoke with the cookie and the CSRF header', async (t) => {
  const { server, client } = setup('cookie');
  t.after(() => client.close());
  client.setSession(server.createSession('alice'));
  const sid = client.snapshot().sessionId;
  const events = [];
  client.on('signed-out', (e) => events.push(e));
  const r = await client.logout();
  assert.deepEqual(r, { revoked: true, error: null });
  const [req] = server.requestsTo('/api/revoke');
  assert.equal(req.headers.get(CSRF_HEADER), '1');
  assert.equal(req.credentials, 'include');
  assert.deepEqual(req.body, {});
  assert.equal(server.sessions.get(sid).alive, false);
  assert.equal(server.cookie, null);
  assert.deepEqual(events, [{ reason: 'logout', remote: false }]);
  assert.equal(client.snapshot().status, 'signed-out');
});

test('token mode logout: token=<refresh token> with the hint', async (t) => {
  const { server, client } = setup('token');
  t.after(() => client.close());
  const created = server.createSession('alice');
  client.setSession(created);
  await client.logout();
  const [req] = server.requestsTo('/api/revoke');
  assert.deepEqual(req.body, { token: created.refresh_token, token_type_hint: 'refresh_token' });
  assert.equal(server.sessions.get(created.session_id).alive, false);
});

test('logout signs out locally even when the server cannot be reached', async (t) => {
  const { clock, client } = setup('token', { fetch: async () => { throw new TypeError('offline'); } });
  t.after(() => client.close());
  client.setSession({ access_token: 'a', expires_in: 900, refresh_token: 'r', session_id: 's', user_id: 'u' });
  const p = client.logout();
  await clock.advance(60_000);
  const r = await p;
  assert.equal(r.revoked, false);
  assert.equal(r.error?.code, 'network');
  assert.equal(client.snapshot().status, 'signed-out');
});

test('listSessions returns the caller\'s sessions with the bearer', async (t) => {
  const { server, client } = setup('token');
  t.after(() => client.close());
  server.createSession('alice', { browser: 'Firefox', os: 'Linux' });
  server.createSession('bob');
  client.setSession(server.createSession('alice', { browser: 'Chrome', os: 'macOS' }));
  const sessions = await client.listSessions();
  assert.equal(sessions.length, 2, 'only alice\'s sessions');
  const current = sessions.filter((s) => s.current);
  assert.equal(current.length, 1);
  assert.equal(current[0].session_id, client.snapshot().sessionId);
  assert.match(server.requestsTo('/api/sessions')[0].headers.get('Authorization'), /^Bearer /);
});

test('listSessions on a session ended elsewhere rejects with signed_out, not a bare 401', async (t) => {
  const { server, client } = setup('token');
  t.after(() => client.close());
  client.setSession(server.createSession('alice'));
  server.endSession(client.snapshot().sessionId);
  const err = await client.listSessions().catch((e) => e);
  assert.ok(err instanceof SessionError);
  assert.equal(err.code, 'signed_out');
  assert.equal(err.reason, 'invalid_grant');
  assert.equal(client.snapshot().status, 'signed-out');
});

test('endSession deletes another session; ending the current one is a logout', async (t) => {
  const { server, client } = setup('token');
  t.after(() => client.close());
  const other = server.createSession('alice');
  client.setSession(server.createSession('alice'));
  await client.endSession(other.session_id);
  const del = server.requests.find((r) => r.method === 'DELETE');
  assert.equal(del.query, `?session_id=${other.session_id}`);
  assert.equal(server.sessions.get(other.session_id).alive, false);
  assert.equal(client.snapshot().status, 'signed-in');

  await assert.rejects(client.endSession('s-unknown'), (e) => e.code === 'not_found' && e.status === 404);

  await client.endSession(client.snapshot().sessionId);
  assert.equal(client.snapshot().status, 'signed-out');
  assert.equal(server.requestsTo('/api/revoke').length, 1);
});

test('endOtherSessions ends every other session and keeps this one', async (t) => {
  const { server, client } = setup('cookie');
  t.after(() => client.close());
  const a = server.createSession('alice');
  const b = server.createSession('alice');
  const bob = server.createSession('bob');
  client.setSession(server.createSession('alice'));
  const r = await client.endOtherSessions();
  assert.deepEqual(r, { ended: 2, failed: [] });
  assert.equal(server.sessions.get(a.session_id).alive, false);
  assert.equal(server.sessions.get(b.session_id).alive, false);
  assert.equal(server.sessions.get(bob.session_id).alive, true);
  assert.equal(server.sessions.get(client.snapshot().sessionId).alive, true);
});

test('logoutEverywhere ends all of the user\'s sessions and signs out', async (t) => {
  const { server, client } = setup('token');
  t.after(() => client.close());
  const a = server.createSession('alice');
  client.setSession(server.createSession('alice'));
  const mine = client.snapshot().sessionId;
  const r = await client.logoutEverywhere();
  assert.deepEqual(r, { ended: 2, failed: [] });
  assert.equal(server.sessions.get(a.session_id).alive, false);
  assert.equal(server.sessions.get(mine).alive, false);
  assert.equal(client.snapshot().status, 'signed-out');
});

test('decodeJwtPayload reads claims and tolerates junk', () => {
  const tok = `x.${Buffer.from(JSON.stringify({ sub: 'ünïcode', sid: 's1' })).toString('base64url')}.y`;
  assert.deepEqual(decodeJwtPayload(tok), { sub: 'ünïcode', sid: 's1' });
  assert.equal(decodeJwtPayload('opaque'), null);
  assert.equal(decodeJwtPayload('a.%%%.b'), null);
});

test('createPkce makes an RFC 7636 S256 pair', async () => {
  const { verifier, challenge, method } = await createPkce();
  assert.equal(method, 'S256');
  assert.match(verifier, /^[A-Za-z0-9_-]{43}$/);
  const { createHash } = await import('node:crypto');
  assert.equal(challenge, createHash('sha256').update(verifier).digest('base64url'));
  assert.notEqual((await createPkce()).verifier, verifier);
});
