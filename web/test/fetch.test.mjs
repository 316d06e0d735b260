// client.fetch: attaches the bearer (to the API origin only) and retries
// exactly once on 401 after a refresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSessionClient } from '../session-client.js';
import { FakeClock, FakeServer } from '../test-support/fakes.mjs';

const BASE = 'https://auth.test';

function setup(extra = {}) {
  const clock = new FakeClock();
  const server = new FakeServer({ mode: 'token', ttl: 900, origin: BASE });
  const client = createSessionClient({
    baseUrl: BASE, mode: 'token', fetch: server.fetch, now: clock.now, timers: clock, locks: null, broadcastChannel: null, device: null, ...extra,
  });
  const created = server.createSession('alice');
  client.setSession(created);
  return { clock, server, client, created };
}

const bearerOf = (r) => r.headers.get('Authorization');

test('attaches the access token, keeping the caller\'s headers and body', async (t) => {
  const { server, client, created } = setup();
  t.after(() => client.close());
  const res = await client.fetch(`${BASE}/api/me`, {
    method: 'POST',
    headers: { 'X-Trace': 'abc', 'Content-Type': 'application/json' },
    body: JSON.stringify({ hello: 1 }),
  });
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).echo, { hello: 1 });
  const [req] = server.requestsTo('/api/me');
  assert.equal(bearerOf(req), `Bearer ${created.access_token}`);
  assert.equal(req.headers.get('X-Trace'), 'abc');
});

test('never sends the token to another origin', async (t) => {
  const { server, client } = setup();
  t.after(() => client.close());
  await client.fetch('https://elsewhere.test/collect', { headers: { 'X-A': '1' } });
  const [req] = server.requests.filter((r) => r.path === '/collect');
  assert.equal(req.headers.get('Authorization'), null);
  assert.equal(req.headers.get('X-A'), '1');
});

test('extra tokenOrigins get the token too', async (t) => {
  const { server, client } = setup({ tokenOrigins: [BASE, 'https://api.test'] });
  t.after(() => client.close());
  await client.fetch('https://api.test/things');
  const [req] = server.requests.filter((r) => r.path === '/things');
  assert.match(req.headers.get('Authorization') ?? '', /^Bearer /);
});

test('a 401 triggers one refresh and one retry with the new token', async (t) => {
  const { server, client, created } = setup();
  t.after(() => client.close());
  server.revokeAccess(created.access_token);
  const res = await client.fetch(`${BASE}/api/me`);
  assert.equal(res.status, 200);
  const calls = server.requestsTo('/api/me');
  assert.equal(calls.length, 2);
  assert.equal(bearerOf(calls[0]), `Bearer ${created.access_token}`);
  assert.notEqual(bearerOf(calls[1]), bearerOf(calls[0]));
  assert.equal(server.refreshRequests, 1);
});

test('a second 401 is returned as is: exactly one retry', async (t) => {
  const { server, client } = setup();
  t.after(() => client.close());
  server.meAlways401 = true;
  const res = await client.fetch(`${BASE}/api/me`);
  assert.equal(res.status, 401);
  assert.equal(server.requestsTo('/api/me').length, 2);
  assert.equal(server.refreshRequests, 1);
  assert.equal(client.snapshot().status, 'signed-in');
});

test('a 401 whose refresh says invalid_grant returns the 401 and signs out', async (t) => {
  const { server, client } = setup();
  t.after(() => client.close());
  const events = [];
  client.on('signed-out', (e) => events.push(e.reason));
  server.endSession(client.snapshot().sessionId); // ended from another device
  const res = await client.fetch(`${BASE}/api/me`);
  assert.equal(res.status, 401);
  assert.equal(server.requestsTo('/api/me').length, 1, 'no retry without a new token');
  assert.deepEqual(events, ['invalid_grant']);
  assert.equal(client.snapshot().status, 'signed-out');
});

test('concurrent 401s share one refresh, and each request is retried once', async (t) => {
  const { server, client, created } = setup();
  t.after(() => client.close());
  server.revokeAccess(created.access_token);
  const results = await Promise.all([1, 2, 3].map(() => client.fetch(`${BASE}/api/me`)));
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
  assert.equal(server.refreshRequests, 1);
  assert.equal(server.requestsTo('/api/me').length, 6);
});

test('a 401 after another caller already refreshed retries without a second refresh', async (t) => {
  const { server, client, created } = setup();
  t.after(() => client.close());
  server.revokeAccess(created.access_token);
  // The first response is held back until a refresh happened elsewhere.
  let release;
  const gate = new Promise((r) => (release = r));
  const inner = server.fetch;
  let held = false;
  const slow = createSessionClient({
    baseUrl: BASE, mode: 'token', locks: null, broadcastChannel: null, device: null,
    fetch: async (input, init) => {
      const res = await inner(input, init);
      if (!held && String(input).endsWith('/api/me')) {
        held = true;
        await gate;
      }
      return res;
    },
  });
  t.after(() => slow.close());
  slow.setSession({ ...created });
  const pending = slow.fetch(`${BASE}/api/me`);
  await new Promise((r) => setTimeout(r, 5));
  await slow.refresh();
  assert.equal(server.refreshRequests, 1);
  release();
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(server.refreshRequests, 1, 'the token had already changed: no second refresh');
});

test('a Request object is replayed with its body on the retry', async (t) => {
  const { server, client, created } = setup();
  t.after(() => client.close());
  server.revokeAccess(created.access_token);
  const req = new Request(`${BASE}/api/me`, { method: 'POST', body: JSON.stringify({ n: 42 }), headers: { 'Content-Type': 'application/json' } });
  const res = await client.fetch(req);
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).echo, { n: 42 });
  const calls = server.requestsTo('/api/me');
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[1].body, { n: 42 });
});

test('a streamed body is not replayed', async (t) => {
  const { server, client, created } = setup();
  t.after(() => client.close());
  server.revokeAccess(created.access_token);
  const body = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode('{"s":1}'));
      c.close();
    },
  });
  const res = await client.fetch(`${BASE}/api/me`, { method: 'POST', body, duplex: 'half' });
  assert.equal(res.status, 401);
  assert.equal(server.requestsTo('/api/me').length, 1);
});
