// Readable fakes for the session-client unit tests: a manual clock, an
// in-process Web Locks manager and an in-memory sessiond that speaks the
// SPEC's JSON over real Response objects. Kept outside web/test/ because
// `node --test web/test/` runs every .mjs file under that directory.

/** Lets pending promise chains and Response body reads run. */
export async function flush(rounds = 8) {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * until polls cond (real time) for cross-tab tests that go through a real
 * BroadcastChannel; fails with `what` after timeoutMs.
 */
export async function until(cond, what, timeoutMs = 3000) {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * FakeClock is a monotonic clock with timers that only move when advance()
 * is called. `delays` records every setTimeout delay in order.
 */
export class FakeClock {
  constructor(start = 10_000) {
    this.t = start;
    this.timers = new Map();
    this.seq = 0;
    this.delays = [];
    this.now = () => this.t;
    this.setTimeout = (fn, ms) => {
      const id = ++this.seq;
      this.timers.set(id, { at: this.t + Math.max(0, ms), fn, ms });
      this.delays.push(ms);
      return id;
    };
    this.clearTimeout = (id) => {
      this.timers.delete(id);
    };
  }

  /** Pending timers, soonest first, as {in: ms from now, ms: delay asked}. */
  pending() {
    return [...this.timers.values()].sort((a, b) => a.at - b.at).map((x) => ({ in: x.at - this.t, ms: x.ms }));
  }

  /** advance moves time forward by ms, firing due timers in order. */
  async advance(ms) {
    const target = this.t + ms;
    for (let fired = 0; ; fired++) {
      if (fired > 10_000) throw new Error('FakeClock: more than 10000 timers fired in one advance (a loop?)');
      await flush();
      let next = null;
      for (const [id, x] of this.timers) {
        if (x.at <= target && (next === null || x.at < next[1].at)) next = [id, x];
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = target;
    await flush();
  }
}

/**
 * FakeLocks is an in-process Web Locks manager (exclusive mode, FIFO,
 * ifAvailable, signal), shared by several clients to stand for the tabs
 * of one origin. `requests` records the lock names asked for.
 */
export class FakeLocks {
  constructor() {
    this.queues = new Map();
    this.requests = [];
  }

  request(name, options, callback) {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    this.requests.push({ name, ifAvailable: !!options.ifAvailable });
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = []));
    if (options.ifAvailable && q.length > 0) return Promise.resolve().then(() => callback(null));
    return new Promise((resolve, reject) => {
      const entry = {
        run: async () => {
          try {
            resolve(await callback({ name, mode: 'exclusive' }));
          } catch (err) {
            reject(err);
          } finally {
            q.shift();
            if (q.length) q[0].run();
          }
        },
      };
      q.push(entry);
      options.signal?.addEventListener('abort', () => {
        const i = q.indexOf(entry);
        if (i > 0) {
          q.splice(i, 1);
          reject(new DOMException('The request was aborted.', 'AbortError'));
        }
      });
      if (q.length === 1) entry.run();
    });
  }
}

const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

/**
 * FakeServer is an in-memory sessiond: create, refresh (rotation with a
 * grace window that returns the same successor), revoke, list, delete, and a
 * protected resource at GET /api/me. In cookie mode it plays the browser's
 * cookie jar too (one jar: every client using this fetch is a tab of the same
 * browser) and enforces the CSRF header.
 *
 * Counters the tests assert on: refreshRequests, rotations, graceHits
 * (a just-rotated token presented again), reuse (an older token: theft).
 */
export class FakeServer {
  constructor({ mode = 'token', ttl = 900, origin = 'https://auth.test' } = {}) {
    this.mode = mode;
    this.ttl = ttl;
    this.origin = origin;
    this.sessions = new Map();
    this.byRefresh = new Map(); // refresh token -> {sid, kind: 'current'|'previous'|'old'}
    this.access = new Map(); // access token -> sid (revoked ones removed)
    this.cookie = null;
    this.seq = 0;
    this.requests = [];
    this.refreshScript = [];
    this.refreshRequests = 0;
    this.rotations = 0;
    this.graceHits = 0;
    this.reuse = 0;
    this.meAlways401 = false;
    this.fetch = this.fetch.bind(this);
  }

  #token(prefix) {
    return `${prefix}-${++this.seq}-${Math.random().toString(36).slice(2, 10)}`;
  }

  #issueAccess(s) {
    const jwt = `${b64url({ alg: 'EdDSA', typ: 'at+jwt' })}.${b64url({ sub: s.user, sid: s.sid, jti: ++this.seq })}.sig`;
    this.access.set(jwt, s.sid);
    s.accessTokens.add(jwt);
    return jwt;
  }

  /** createSession makes a session and returns the POST /api/sessions JSON (cookie mode: sets the jar, no refresh_token in it). */
  createSession(user = 'alice', device = { browser: 'Test', os: 'TestOS' }) {
    const sid = `s-${++this.seq}`;
    const s = { sid, user, refresh: this.#token('rt'), previous: null, alive: true, accessTokens: new Set(), device, lastActive: new Date().toISOString() };
    this.sessions.set(sid, s);
    this.byRefresh.set(s.refresh, sid);
    const body = {
      session_id: sid,
      user_id: user,
      access_token: this.#issueAccess(s),
      token_type: 'Bearer',
      expires_in: this.ttl,
      refresh_token: s.refresh,
      refresh_expires_in: 86400,
      session: { session_id: sid, user_id: user, state: 'active' },
    };
    if (this.mode === 'cookie') {
      this.cookie = s.refresh;
      delete body.refresh_token;
    }
    return body;
  }

  /** endSession ends a session server-side (another device's "end", an admin, expiry). */
  endSession(sid) {
    const s = this.sessions.get(sid);
    if (!s) return;
    s.alive = false;
    for (const t of s.accessTokens) this.access.delete(t);
  }

  /** revokeAccess makes one access token inactive, leaving its session alive. */
  revokeAccess(token) {
    this.access.delete(token);
  }

  /** failRefresh queues scripted answers for the next refresh requests: 'network' or {status, headers, body}. */
  failRefresh(...answers) {
    this.refreshScript.push(...answers);
  }

  requestsTo(path) {
    return this.requests.filter((r) => r.path === path);
  }

  #json(status, body, headers = {}) {
    return new Response(body === null ? null : JSON.stringify(body), {
      status,
      headers: body === null ? headers : { 'Content-Type': 'application/json', ...headers },
    });
  }

  #error(status, code, headers = {}) {
    return this.#json(status, { error: code, error_description: code.replace(/_/g, ' ') }, headers);
  }

  #bearer(headers) {
    const h = headers.get('Authorization') ?? '';
    const m = /^Bearer (.+)$/.exec(h);
    if (!m) return null;
    const sid = this.access.get(m[1]);
    const s = sid && this.sessions.get(sid);
    return s && s.alive ? s : null;
  }

  async fetch(input, init = {}) {
    const req = input instanceof Request ? input : null;
    const url = new URL(req ? req.url : String(input));
    const method = (init.method ?? req?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers ?? req?.headers);
    let text = '';
    if (init.body != null) text = typeof init.body === 'string' ? init.body : await new Response(init.body).text();
    else if (req) text = await req.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    const record = { method, path: url.pathname, query: url.search, headers, body, credentials: init.credentials };
    this.requests.push(record);
    if (url.origin !== this.origin) return this.#json(200, { elsewhere: true });
    const cookieRequest = this.mode === 'cookie' && init.credentials === 'include';
    const csrfOk = headers.get('X-Sessiond-CSRF') === '1';

    if (url.pathname === '/api/refresh' && method === 'POST') {
      this.refreshRequests++;
      const scripted = this.refreshScript.shift();
      if (scripted === 'network') throw new TypeError('fetch failed');
      if (scripted) return this.#json(scripted.status, scripted.body ?? { error: 'unavailable' }, scripted.headers);
      let token = body?.refresh_token;
      if (!token && this.mode === 'cookie') {
        if (!csrfOk) return this.#error(403, 'forbidden');
        if (cookieRequest) token = this.cookie;
      }
      if (!token) return this.#error(400, 'invalid_request');
      const sid = this.byRefresh.get(token);
      const s = sid && this.sessions.get(sid);
      if (!s || !s.alive) return this.#error(400, 'invalid_grant');
      if (token === s.previous) {
        this.graceHits++;
      } else if (token !== s.refresh) {
        this.reuse++;
        this.endSession(sid);
        return this.#error(400, 'invalid_grant');
      } else {
        this.rotations++;
        s.previous = s.refresh;
        s.refresh = this.#token('rt');
        this.byRefresh.set(s.refresh, sid);
      }
      if (this.mode === 'cookie' && cookieRequest) this.cookie = s.refresh;
      const out = {
        access_token: this.#issueAccess(s),
        token_type: 'Bearer',
        expires_in: typeof this.ttl === 'function' ? this.ttl() : this.ttl,
        refresh_expires_in: 86400,
        session_id: sid,
      };
      if (this.mode !== 'cookie') out.refresh_token = s.refresh;
      return this.#json(200, out);
    }

    if (url.pathname === '/api/revoke' && method === 'POST') {
      let token = body?.token;
      if (!token && this.mode === 'cookie') {
        if (!csrfOk) return this.#error(403, 'forbidden');
        if (cookieRequest) token = this.cookie;
      }
      if (!token) return this.#error(400, 'invalid_request');
      const sid = this.byRefresh.get(token);
      if (sid) this.endSession(sid);
      else if (this.access.has(token)) this.access.delete(token);
      if (this.mode === 'cookie' && cookieRequest && !body?.token) this.cookie = null;
      return this.#json(200, {});
    }

    if (url.pathname === '/api/sessions' && method === 'POST') {
      if (this.mode === 'cookie' && !csrfOk) return this.#error(403, 'forbidden');
      if (!body?.code && !body?.id_token) return this.#error(401, 'unauthorized');
      return this.#json(201, this.createSession(body.code ? 'code-user' : 'id-token-user', body.device));
    }

    if (url.pathname === '/api/sessions' || url.pathname === '/api/me') {
      const s = this.#bearer(headers);
      if (!s || (url.pathname === '/api/me' && this.meAlways401)) {
        return this.#error(401, 'unauthorized', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      }
      if (url.pathname === '/api/me') return this.#json(200, { sub: s.user, sid: s.sid, echo: body });
      if (method === 'GET') {
        const sessions = [...this.sessions.values()]
          .filter((x) => x.user === s.user && x.alive)
          .map((x) => ({ session_id: x.sid, state: 'active', ip: '127.0.0.1', device: x.device, last_active_at: x.lastActive, current: x.sid === s.sid }));
        return this.#json(200, { sessions });
      }
      if (method === 'DELETE') {
        const target = this.sessions.get(url.searchParams.get('session_id') ?? '');
        if (!target || target.user !== s.user || !target.alive) return this.#error(404, 'not_found');
        this.endSession(target.sid);
        return this.#json(204, null);
      }
    }
    return this.#error(404, 'not_found');
  }
}
