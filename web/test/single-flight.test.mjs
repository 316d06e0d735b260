// Single-flight refresh: within a tab (one shared promise) and across the
// tabs of an origin (Web Locks, or the BroadcastChannel election), with real
// BroadcastChannels between client instances in this process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSessionClient, LOCK_NAME } from '../session-client.js';
import { FakeClock, FakeLocks, FakeServer, flush, until } from '../test-support/fakes.mjs';

const BASE = 'https://auth.test';
let channelSeq = 0;

/** tabs makes n clients sharing one server (one browser) and one channel name. */
function tabs(n, { mode, locks, server, wrap, ...extra }) {
  const channelName = `sessiond-test-${process.pid}-${++channelSeq}`;
  const list = [];
  for (let i = 0; i < n; i++) {
    list.push(
      createSessionClient({
        baseUrl: BASE,
        mode,
        fetch: server.fetch,
        locks,
        broadcastChannel: (name) => (wrap ? wrap(i, new BroadcastChannel(name)) : new BroadcastChannel(name)),
        channelName,
        device: null,
        peerTimeoutMs: 200,
        electionWindowMs: 100,
        ...extra,
      }),
    );
  }
  return list;
}

/**
 * dropping wraps a channel so that, while `drop.on` is true, incoming
 * messages of the given types are lost: a tab that misses broadcasts.
 */
function dropping(channel, types, drop) {
  return {
    postMessage: (m) => channel.postMessage(m),
    addEventListener: (type, fn) =>
      channel.addEventListener(type, (ev) => {
        if (drop.on && types.includes(ev.data?.t)) return;
        fn(ev);
      }),
    close: () => channel.close(),
  };
}

async function signInAll(list, server) {
  list[0].setSession(server.createSession('alice'));
  await until(() => list.every((c) => c.snapshot().status === 'signed-in'), 'all tabs to adopt the session');
}

test('within a tab, concurrent refresh() calls share one request', async (t) => {
  const clock = new FakeClock();
  const server = new FakeServer({ mode: 'token', ttl: 100, origin: BASE });
  const client = createSessionClient({
    baseUrl: BASE, mode: 'token', fetch: server.fetch, now: clock.now, timers: clock, locks: null, broadcastChannel: null, device: null,
  });
  t.after(() => client.close());
  client.setSession(server.createSession('alice'));
  const calls = Array.from({ length: 5 }, () => client.refresh());
  assert.equal(new Set(calls).size, 1, 'the same promise for every caller');
  const results = await Promise.all(calls);
  assert.equal(server.refreshRequests, 1);
  assert.equal(server.rotations, 1);
  assert.ok(results.every((r) => r.status === 'signed-in'));
  // Once settled, a new call is a new refresh.
  await client.refresh();
  assert.equal(server.refreshRequests, 2);
});

for (const mode of ['cookie', 'token']) {
  test(`${mode} mode, Web Locks: three tabs refreshing at once cause exactly one rotation`, async (t) => {
    const server = new FakeServer({ mode, ttl: 900, origin: BASE });
    const locks = new FakeLocks();
    const list = tabs(3, { mode, locks, server });
    t.after(() => list.forEach((c) => c.close()));
    await signInAll(list, server);

    const results = await Promise.all(list.map((c) => c.refresh()));
    assert.equal(server.refreshRequests, 1, 'one refresh request reached the server');
    assert.equal(server.rotations, 1);
    assert.equal(server.graceHits, 0, 'no tab presented a just-rotated token');
    assert.equal(server.reuse, 0);
    assert.ok(results.every((r) => r.status === 'signed-in'));
    assert.ok(locks.requests.length >= 3 && locks.requests.every((r) => r.name === LOCK_NAME), 'the named Web Lock was used');

    const tokens = await Promise.all(list.map((c) => c.getAccessToken()));
    assert.equal(new Set(tokens).size, 1, 'every tab holds the one new access token');
    assert.equal(server.access.has(tokens[0]), true);
    assert.equal(server.refreshRequests, 1, 'and none refreshed again right after');

    // A later refresh by another tab uses the rotated credential (no reuse).
    await list[2].refresh();
    assert.equal(server.rotations, 2);
    assert.equal(server.graceHits + server.reuse, 0);
  });

  test(`${mode} mode, Web Locks: tabs that miss the broadcast ask their peers instead of rotating again`, async (t) => {
    const server = new FakeServer({ mode, ttl: 900, origin: BASE });
    const drop = { on: false };
    const list = tabs(3, { mode, locks: new FakeLocks(), server, wrap: (i, ch) => (i === 0 ? ch : dropping(ch, ['tokens'], drop)) });
    t.after(() => list.forEach((c) => c.close()));
    await signInAll(list, server);

    drop.on = true; // tabs 1 and 2 will never hear tab 0's "tokens" broadcast
    await Promise.all(list.map((c) => c.refresh()));
    assert.equal(server.refreshRequests, 1);
    assert.equal(server.rotations, 1);
    const tokens = await Promise.all(list.map((c) => c.getAccessToken()));
    assert.equal(new Set(tokens).size, 1, 'the waiting tabs got the new token from the query answer');
  });

  test(`${mode} mode, BroadcastChannel election (no Web Locks): one rotation for three tabs`, async (t) => {
    const server = new FakeServer({ mode, ttl: 900, origin: BASE });
    const list = tabs(3, { mode, locks: null, server });
    t.after(() => list.forEach((c) => c.close()));
    await signInAll(list, server);

    await Promise.all(list.map((c) => c.refresh()));
    assert.equal(server.refreshRequests, 1, 'only the elected tab asked the server');
    assert.equal(server.rotations, 1);
    assert.equal(server.graceHits + server.reuse, 0);
    const tokens = await Promise.all(list.map((c) => c.getAccessToken()));
    assert.equal(new Set(tokens).size, 1);

    // A tab that starts while another is leading follows it too.
    const first = list[1].refresh();
    await new Promise((r) => setTimeout(r, 10));
    const second = list[2].refresh();
    await Promise.all([first, second]);
    assert.equal(server.refreshRequests, 2);
  });
}

test('election: when the leader fails, the follower goes on at once instead of waiting out its timeout', async (t) => {
  const clock = new FakeClock();
  const server = new FakeServer({ mode: 'cookie', ttl: 900, origin: BASE });
  const list = tabs(2, { mode: 'cookie', locks: null, server, now: clock.now, timers: clock, peerResultTimeoutMs: 60_000 });
  t.after(() => list.forEach((c) => c.close()));
  list[0].setSession(server.createSession('alice'));
  await until(() => list[1].snapshot().status === 'signed-in', 'tab 1 to adopt');

  server.failRefresh({ status: 403, body: { error: 'forbidden' } }); // whoever leads is refused
  const outcomes = list.map((c) => c.refresh().then(() => 'ok', (e) => e.code));
  const settled = [false, false];
  outcomes.forEach((p, i) => p.then(() => (settled[i] = true)));
  for (let i = 0; i < 10 && !settled.every(Boolean); i++) {
    await flush();
    await clock.advance(250); // election window, then the follower's peer query
  }
  assert.deepEqual(settled, [true, true], 'both settled within 2.5 s of fake time, far below the 60 s follower timeout');
  assert.deepEqual((await Promise.all(outcomes)).sort(), ['forbidden', 'ok']);
  assert.equal(server.refreshRequests, 2);
  assert.equal(server.rotations, 1);
});

test('without any cross-tab mechanism each tab refreshes (the control case)', async (t) => {
  const server = new FakeServer({ mode: 'cookie', ttl: 900, origin: BASE });
  const created = server.createSession('alice');
  const list = [0, 1, 2].map(() =>
    createSessionClient({ baseUrl: BASE, mode: 'cookie', fetch: server.fetch, locks: null, broadcastChannel: null, device: null }),
  );
  t.after(() => list.forEach((c) => c.close()));
  list.forEach((c) => c.setSession(created));
  await Promise.all(list.map((c) => c.refresh()));
  // This is what the locks and the election prevent.
  assert.equal(server.refreshRequests, 3);
});

test('cookie mode: a lone tab (a reload) restores the session from the cookie', async (t) => {
  const server = new FakeServer({ mode: 'cookie', ttl: 900, origin: BASE });
  server.createSession('alice'); // sets the cookie; no tab is open
  const [c] = tabs(1, { mode: 'cookie', locks: new FakeLocks(), server });
  t.after(() => c.close());
  const state = await c.restore();
  assert.equal(state.status, 'signed-in');
  assert.equal(state.userId, 'alice', 'user id from the access token when the refresh response has none');
  assert.equal(server.refreshRequests, 1);
});

test('cookie mode: restore asks the open tabs first', async (t) => {
  const server = new FakeServer({ mode: 'cookie', ttl: 900, origin: BASE });
  const [a, b] = tabs(2, { mode: 'cookie', locks: new FakeLocks(), server });
  t.after(() => [a, b].forEach((c) => c.close()));
  a.setSession(server.createSession('alice'));
  await until(() => b.snapshot().status === 'signed-in', 'tab b to adopt');
  const state = await b.restore();
  assert.equal(state.status, 'signed-in');
  assert.equal(server.refreshRequests, 0);
});

test('cookie mode: restore without a cookie is a quiet signed-out', async (t) => {
  const server = new FakeServer({ mode: 'cookie', ttl: 900, origin: BASE });
  const [a] = tabs(1, { mode: 'cookie', locks: new FakeLocks(), server });
  t.after(() => a.close());
  const events = [];
  a.on('signed-out', (e) => events.push(e));
  const state = await a.restore();
  assert.equal(state.status, 'signed-out');
  assert.equal(state.reason, 'no_session');
  assert.deepEqual(events, [], 'no "you were signed out" event for a visitor who never was signed in');
  assert.equal(server.refreshRequests, 1);
});

test('logout in one tab signs out the others', async (t) => {
  const server = new FakeServer({ mode: 'token', ttl: 900, origin: BASE });
  const list = tabs(3, { mode: 'token', locks: new FakeLocks(), server });
  t.after(() => list.forEach((c) => c.close()));
  await signInAll(list, server);
  const seen = [];
  list[1].on('signed-out', (e) => seen.push(e));
  const r = await list[0].logout();
  assert.equal(r.revoked, true);
  await until(() => list.every((c) => c.snapshot().status === 'signed-out'), 'all tabs to sign out');
  assert.deepEqual(seen, [{ reason: 'logout', remote: true }]);
  assert.equal(server.refreshRequests, 0);
});

test('token mode: a tab with a stale refresh token never presents it', async (t) => {
  // Tab 1 misses every broadcast; before refreshing it asks its peers and
  // adopts the rotated pair, so it neither rotates needlessly nor presents
  // the old refresh token (the server would count a reuse and end the session).
  const server = new FakeServer({ mode: 'token', ttl: 900, origin: BASE });
  const drop = { on: false };
  const list = tabs(2, { mode: 'token', locks: new FakeLocks(), server, wrap: (i, ch) => (i === 1 ? dropping(ch, ['tokens'], drop) : ch) });
  t.after(() => list.forEach((c) => c.close()));
  await signInAll(list, server);
  drop.on = true;
  await list[0].refresh();
  await flush();
  await list[1].refresh();
  assert.equal(server.rotations, 1, 'the fresh pair came from the peer');
  assert.equal(await list[1].getAccessToken(), await list[0].getAccessToken());
  // Its next own rotation presents the rotated refresh token.
  await list[1].refresh();
  assert.equal(server.rotations, 2);
  assert.equal(server.reuse, 0, 'the stale token was not presented');
  assert.equal(server.graceHits, 0);
  assert.equal(list[1].snapshot().status, 'signed-in');
});

test('token mode with opt-in storage: a reload restores from storage', async (t) => {
  const server = new FakeServer({ mode: 'token', ttl: 900, origin: BASE });
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, String(v)), removeItem: (k) => store.delete(k) };
  const opts = { baseUrl: BASE, mode: 'token', fetch: server.fetch, locks: null, broadcastChannel: null, device: null, storage };
  const first = createSessionClient(opts);
  first.setSession(server.createSession('alice'));
  assert.equal(JSON.parse(store.get('sessiond.refresh')).refresh_token, server.sessions.values().next().value.refresh);
  first.close();

  const reloaded = createSessionClient(opts);
  t.after(() => reloaded.close());
  const state = await reloaded.restore();
  assert.equal(state.status, 'signed-in');
  assert.equal(state.userId, 'alice');
  assert.equal(server.rotations, 1);
  await reloaded.logout();
  assert.equal(store.has('sessiond.refresh'), false, 'logout clears the stored token');
});

test('token mode without storage: nothing is persisted and a lone reload is signed out', async (t) => {
  const server = new FakeServer({ mode: 'token', ttl: 900, origin: BASE });
  const client = createSessionClient({ baseUrl: BASE, mode: 'token', fetch: server.fetch, locks: null, broadcastChannel: null, device: null });
  t.after(() => client.close());
  client.setSession(server.createSession('alice'));
  const reloaded = createSessionClient({ baseUrl: BASE, mode: 'token', fetch: server.fetch, locks: null, broadcastChannel: null, device: null });
  t.after(() => reloaded.close());
  const state = await reloaded.restore();
  assert.equal(state.status, 'signed-out');
  assert.equal(server.refreshRequests, 0);
});
