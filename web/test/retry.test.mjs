// Retries: network errors and 503 with bounded exponential backoff and
// jitter, Retry-After on 429/503, and a hard stop on invalid_grant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSessionClient, parseRetryAfter, SessionError } from '../session-client.js';
import { FakeClock, FakeServer, flush } from '../test-support/fakes.mjs';

const BASE = 'https://auth.test';

function setup({ mode = 'token', random = () => 0.5, ...extra } = {}) {
  const clock = new FakeClock();
  const server = new FakeServer({ mode, ttl: 100, origin: BASE });
  const client = createSessionClient({
    baseUrl: BASE,
    mode,
    fetch: server.fetch,
    now: clock.now,
    timers: clock,
    random,
    locks: null,
    broadcastChannel: null,
    device: null,
    ...extra,
  });
  client.setSession(server.createSession('alice'));
  return { clock, server, client };
}

const unavailable = { status: 503, body: { error: 'unavailable', error_description: 'kv down' } };

test('backoff delays grow exponentially with equal jitter and are capped', () => {
  const { client } = setup({ random: () => 0 });
  // random = 0: the lower bound, half of base * 2^n, capped at 8 s.
  assert.deepEqual([0, 1, 2, 3, 4, 5, 10].map((n) => client.backoffDelay(n)), [250, 500, 1000, 2000, 4000, 4000, 4000]);
  const { client: high } = setup({ random: () => 0.999999 });
  assert.deepEqual([0, 1, 2, 3, 4, 10].map((n) => high.backoffDelay(n)), [500, 1000, 2000, 4000, 8000, 8000]);
  client.close();
  high.close();
});

test('503 is retried after the backoff delay, then succeeds', async (t) => {
  const { clock, server, client } = setup();
  t.after(() => client.close());
  server.failRefresh(unavailable, unavailable);
  const p = client.refresh();
  await flush();
  assert.equal(server.refreshRequests, 1);
  // random 0.5: 375 ms, then 750 ms.
  await clock.advance(374);
  assert.equal(server.refreshRequests, 1, 'not before the first backoff delay');
  await clock.advance(1);
  assert.equal(server.refreshRequests, 2);
  await clock.advance(749);
  assert.equal(server.refreshRequests, 2, 'not before the second backoff delay');
  await clock.advance(1);
  assert.equal(server.refreshRequests, 3);
  const state = await p;
  assert.equal(state.status, 'signed-in');
  assert.equal(server.rotations, 1);
});

test('network errors are retried the same way', async (t) => {
  const { clock, server, client } = setup();
  t.after(() => client.close());
  server.failRefresh('network', 'network', 'network');
  const p = client.refresh();
  await clock.advance(375 + 750 + 1500);
  assert.equal(server.refreshRequests, 4);
  assert.equal((await p).status, 'signed-in');
});

test('retries are bounded; the session survives and a later attempt is scheduled', async (t) => {
  const { clock, server, client } = setup();
  t.after(() => client.close());
  const errors = [];
  client.on('error', (e) => errors.push(e));
  server.failRefresh(...Array(10).fill(unavailable));
  const p = client.refresh();
  const outcome = p.then(
    () => null,
    (e) => e,
  );
  await clock.advance(375 + 750 + 1500 + 3000);
  const err = await outcome;
  assert.ok(err instanceof SessionError);
  assert.equal(err.code, 'unavailable');
  assert.equal(err.status, 503);
  assert.equal(server.refreshRequests, 5, 'first attempt + maxRetries (4)');
  assert.equal(client.snapshot().status, 'signed-in', 'a server outage is not a sign-out');
  assert.deepEqual(clock.pending().map((x) => x.in), [30_000], 'next attempt after retryLaterMs');
  assert.equal(errors.length, 0, 'explicit refresh() failures are not also emitted');
  await clock.advance(30_000);
  assert.equal(server.refreshRequests, 6, 'the scheduled attempt ran');
});

test('after a failed refresh an expired token fails fast until the pause is over', async (t) => {
  const { clock, server, client } = setup();
  t.after(() => client.close());
  clock.t += 200_000; // the token has expired (timers did not run: a frozen tab)
  server.failRefresh(...Array(5).fill(unavailable));
  const first = client.getAccessToken().catch((e) => e);
  await clock.advance(375 + 750 + 1500 + 3000);
  assert.equal((await first).code, 'unavailable');
  assert.equal(server.refreshRequests, 5);

  const second = await client.getAccessToken().catch((e) => e);
  assert.ok(second instanceof SessionError);
  assert.equal(second.code, 'unavailable');
  assert.equal(server.refreshRequests, 5, 'no request during the pause');

  clock.t += 30_000; // pause over (the server is back: the script is empty)
  const token = await client.getAccessToken();
  assert.equal(typeof token, 'string');
  assert.equal(server.refreshRequests, 6);
});

test('Retry-After on 503 is honoured (seconds)', async (t) => {
  const { clock, server, client } = setup({ random: () => 0 });
  t.after(() => client.close());
  server.failRefresh({ ...unavailable, headers: { 'Retry-After': '3' } });
  const p = client.refresh();
  await clock.advance(2_999);
  assert.equal(server.refreshRequests, 1, 'not before Retry-After');
  await clock.advance(1);
  assert.equal(server.refreshRequests, 2);
  await p;
});

test('Retry-After on 429 is honoured, with at most 10% added jitter', async (t) => {
  const { clock, server, client } = setup({ random: () => 0.999 });
  t.after(() => client.close());
  server.failRefresh({ status: 429, body: { error: 'rate_limited' }, headers: { 'Retry-After': '2' } });
  const p = client.refresh();
  await clock.advance(1_999);
  assert.equal(server.refreshRequests, 1);
  await clock.advance(200);
  assert.equal(server.refreshRequests, 2);
  await p;
});

test('a Retry-After longer than maxRetryAfterMs stops the retries and schedules one then', async (t) => {
  const { clock, server, client } = setup();
  t.after(() => client.close());
  server.failRefresh({ ...unavailable, headers: { 'Retry-After': '120' } });
  const err = await client.refresh().catch((e) => e);
  assert.equal(err.code, 'unavailable');
  assert.equal(err.retryAfterMs, 120_000);
  assert.equal(server.refreshRequests, 1);
  assert.deepEqual(clock.pending().map((x) => x.in), [120_000]);
  await clock.advance(119_999);
  assert.equal(server.refreshRequests, 1);
  await clock.advance(1);
  assert.equal(server.refreshRequests, 2);
  assert.equal(client.snapshot().status, 'signed-in');
});

test('invalid_grant stops at once: signed out, reported once, nothing scheduled', async (t) => {
  const { clock, server, client } = setup();
  t.after(() => client.close());
  const signedOut = [];
  const changes = [];
  client.on('signed-out', (e) => signedOut.push(e));
  client.on('change', (s) => changes.push(s.status));
  server.endSession(client.snapshot().sessionId);

  const err = await client.refresh().catch((e) => e);
  assert.ok(err instanceof SessionError);
  assert.equal(err.code, 'signed_out');
  assert.equal(err.reason, 'invalid_grant');
  assert.equal(server.refreshRequests, 1, 'invalid_grant is never retried');
  assert.deepEqual(signedOut, [{ reason: 'invalid_grant', remote: false }]);
  assert.deepEqual(changes, ['signed-out']);
  const state = client.snapshot();
  assert.equal(state.status, 'signed-out');
  assert.equal(state.userId, null);
  assert.equal(state.sessionId, null);
  assert.deepEqual(clock.pending(), []);

  await clock.advance(3_600_000);
  assert.equal(server.refreshRequests, 1, 'no attempt after the sign-out');
  await assert.rejects(client.getAccessToken(), (e) => e.code === 'signed_out');
  await assert.rejects(client.fetch(`${BASE}/api/me`), (e) => e.code === 'signed_out');
  assert.equal(server.requestsTo('/api/me').length, 0);
});

test('a background refresh that hits invalid_grant signs out via the event', async (t) => {
  const { clock, server, client } = setup();
  t.after(() => client.close());
  const signedOut = [];
  client.on('signed-out', (e) => signedOut.push(e.reason));
  server.endSession(client.snapshot().sessionId);
  await clock.advance(80_000);
  assert.deepEqual(signedOut, ['invalid_grant']);
  assert.equal(client.snapshot().status, 'signed-out');
});

test('other 4xx answers are not retried and do not sign out', async (t) => {
  const { server, client } = setup();
  t.after(() => client.close());
  server.failRefresh({ status: 403, body: { error: 'forbidden' } });
  const err = await client.refresh().catch((e) => e);
  assert.equal(err.code, 'forbidden');
  assert.equal(err.status, 403);
  assert.equal(server.refreshRequests, 1);
  assert.equal(client.snapshot().status, 'signed-in');
});

test('parseRetryAfter reads seconds and HTTP-dates (against the Date header)', () => {
  assert.equal(parseRetryAfter('7'), 7000);
  assert.equal(parseRetryAfter(' 0 '), 0);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', 'Wed, 21 Oct 2015 07:28:00 GMT'), 10_000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', 'Wed, 21 Oct 2015 07:28:00 GMT'), 0);
  assert.equal(parseRetryAfter('soon'), null);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter('-5'), null);
});
