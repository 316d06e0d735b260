// Proactive refresh scheduling: from the server's expires_in, on the
// injected monotonic clock, with a floor, never from the wall clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSessionClient } from '../session-client.js';
import { FakeClock, FakeServer } from '../test-support/fakes.mjs';

const BASE = 'https://auth.test';

function setup({ ttl = 100, mode = 'token', ...extra } = {}) {
  const clock = new FakeClock();
  const server = new FakeServer({ mode, ttl, origin: BASE });
  const client = createSessionClient({
    baseUrl: BASE,
    mode,
    fetch: server.fetch,
    now: clock.now,
    timers: clock,
    random: () => 0.5,
    locks: null,
    broadcastChannel: null,
    device: null,
    ...extra,
  });
  return { clock, server, client };
}

test('refresh is scheduled at 80% of expires_in, measured from receipt', async (t) => {
  const { clock, server, client } = setup({ ttl: 100 });
  t.after(() => client.close());
  client.setSession(server.createSession('alice'));
  assert.deepEqual(clock.pending().map((p) => p.in), [80_000]);

  await clock.advance(79_999);
  assert.equal(server.refreshRequests, 0, 'no refresh before 80% of the lifetime');
  await clock.advance(1);
  assert.equal(server.refreshRequests, 1, 'one refresh at 80%');
  assert.equal(client.snapshot().status, 'signed-in');

  // The next one is 80 s after the new token arrived, not after the old one expired.
  assert.deepEqual(clock.pending().map((p) => p.in), [80_000]);
  await clock.advance(80_000);
  assert.equal(server.refreshRequests, 2);
  assert.equal(server.rotations, 2);
});

test('the schedule follows each response\'s expires_in', async (t) => {
  const lifetimes = [50, 10];
  const { clock, server, client } = setup({ ttl: () => lifetimes.shift() ?? 1000 });
  t.after(() => client.close());
  client.setSession({ ...server.createSession('alice'), expires_in: 200 });
  assert.deepEqual(clock.pending().map((p) => p.in), [160_000]);
  await clock.advance(160_000);
  assert.deepEqual(clock.pending().map((p) => p.in), [40_000], '80% of the 50 s the refresh returned');
  await clock.advance(40_000);
  assert.deepEqual(clock.pending().map((p) => p.in), [8_000], '80% of 10 s');
  assert.equal(server.refreshRequests, 2);
});

test('a zero or tiny expires_in cannot cause a refresh loop (floor)', async (t) => {
  const { clock, server, client } = setup({ ttl: 0 });
  t.after(() => client.close());
  client.setSession(server.createSession('alice'));
  assert.deepEqual(clock.pending().map((p) => p.in), [5_000], 'floor of 5 s');
  await clock.advance(60_000);
  // 5 s, 10 s, ..., 60 s: exactly one refresh per floor period.
  assert.equal(server.refreshRequests, 12);

  // A token that expired the moment it arrived is still handed out rather
  // than refreshed again on every call.
  const before = server.refreshRequests;
  for (let i = 0; i < 5; i++) await client.getAccessToken();
  assert.equal(server.refreshRequests, before);
});

test('a custom floor and ratio are honoured', async (t) => {
  const { clock, server, client } = setup({ ttl: 100, refreshRatio: 0.5, minRefreshDelayMs: 60_000 });
  t.after(() => client.close());
  client.setSession(server.createSession('alice'));
  assert.deepEqual(clock.pending().map((p) => p.in), [60_000], 'max(floor 60 s, 50% of 100 s)');
});

test('a skewed device wall clock changes nothing', async (t) => {
  const realNow = Date.now;
  for (const skew of [+365 * 86_400_000, -365 * 86_400_000]) {
    let wallReads = 0;
    Date.now = () => {
      wallReads++;
      return realNow() + skew;
    };
    try {
      const { clock, server, client } = setup({ ttl: 100 });
      client.setSession(server.createSession('alice'));
      assert.deepEqual(clock.pending().map((p) => p.in), [80_000]);
      await clock.advance(10 * 60_000);
      // 80, 160, ..., 560 s: seven refreshes in ten minutes, no loop, no stall.
      assert.equal(server.refreshRequests, 7, `skew ${skew}`);
      assert.equal(client.snapshot().status, 'signed-in');
      assert.equal(wallReads, 0, 'the client never read Date.now()');
      client.close();
    } finally {
      Date.now = realNow;
    }
  }
});

test('getAccessToken refreshes an expired token first, and a merely due one in the background', async (t) => {
  const { clock, server, client } = setup({ ttl: 100 });
  t.after(() => client.close());
  const created = server.createSession('alice');
  client.setSession(created);
  assert.equal(await client.getAccessToken(), created.access_token);
  assert.equal(server.refreshRequests, 0);

  // Past 80% but not expired: the current token, plus a background refresh.
  clock.t += 90_000;
  assert.equal(await client.getAccessToken(), created.access_token);
  await clock.advance(0);
  assert.equal(server.refreshRequests, 1);
  const second = await client.getAccessToken();
  assert.notEqual(second, created.access_token);

  // Expired (timers did not run, as in a frozen background tab): refreshed before returning.
  clock.t += 200_000;
  const third = await client.getAccessToken();
  assert.equal(server.refreshRequests, 2);
  assert.notEqual(third, second);
});

test('expiresInMs in the snapshot counts down on the monotonic clock', async (t) => {
  const { clock, server, client } = setup({ ttl: 100 });
  t.after(() => client.close());
  client.setSession(server.createSession('alice'));
  assert.equal(client.snapshot().expiresInMs, 100_000);
  clock.t += 30_000;
  assert.equal(client.snapshot().expiresInMs, 70_000);
});

test('close() cancels the scheduled refresh', async () => {
  const { clock, server, client } = setup({ ttl: 100 });
  client.setSession(server.createSession('alice'));
  assert.equal(clock.pending().length, 1);
  client.close();
  assert.equal(clock.pending().length, 0);
  await clock.advance(10 * 60_000);
  assert.equal(server.refreshRequests, 0);
});
