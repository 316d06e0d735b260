// @ts-check
/**
 * sessiond browser client: a dependency-free ES module (no build step).
 *
 * What it does, and why:
 * - Keeps the access token in memory only (a private field). The refresh
 *   token lives in an HttpOnly cookie (cookie mode) or in memory (token mode,
 *   unless the app passes `storage`, see README "Token mode").
 * - Refreshes proactively at ~80% of the server's `expires_in`, measured on
 *   a monotonic clock from the moment the response arrived. The device's wall
 *   clock is never used for this, so a skewed clock cannot cause refresh loops;
 *   a floor (`minRefreshDelayMs`) bounds the refresh rate whatever the server says.
 * - Makes a refresh single-flight: within a tab all callers share one promise;
 *   across the tabs of the origin a Web Lock (`navigator.locks`) or, without
 *   it, a BroadcastChannel election lets one tab rotate while the others wait
 *   and adopt the result it broadcasts. A tab that waited and missed the
 *   broadcast asks its peers before it refreshes itself.
 * - Retries network errors, 502/503/504 and 429 with bounded exponential
 *   backoff and jitter, honouring `Retry-After`; stops on `invalid_grant`
 *   and reports "signed out".
 *
 * The server contract (cookie mode, CSRF header, dev endpoints) is in
 * web/README.md.
 *
 * @module session-client
 */

/** Name of the Web Lock that serialises refreshes across the tabs of an origin. */
export const LOCK_NAME = 'sessiond-refresh';
/** Custom header sent on every cookie-bearing request in cookie mode (CSRF defence). */
export const CSRF_HEADER = 'X-Sessiond-CSRF';

/**
 * @typedef {'cookie'|'token'} SessionMode
 *
 * @typedef {'unknown'|'signed-in'|'signed-out'} SessionStatus
 *
 * @typedef {Object} SessionSnapshot  What the app may see; never a token.
 * @property {SessionMode} mode
 * @property {SessionStatus} status   `unknown` until restore() or a sign-in settles it.
 * @property {string|null} userId     From the create response, else the access token's `sub`.
 * @property {string|null} sessionId
 * @property {number|null} expiresInMs  Remaining access-token lifetime (monotonic), null when none.
 * @property {string|null} reason     Why the client is signed out: `invalid_grant`
 *   (the server ended or refused the session), `logout`, `session_ended`,
 *   `no_session` (restore found none), `no_refresh_token`; null when signed in.
 * @property {boolean} remote         The sign-out was learnt from another tab.
 * @property {Object|null} session    The `session` object of the create response, if any.
 *
 * @typedef {Object} SessionInfo  One entry of GET /api/sessions.
 * @property {string} session_id
 * @property {string} state        `active`, `idle`, `suspended`, ...
 * @property {string} created_at   RFC 3339 UTC
 * @property {string} last_active_at
 * @property {string} expires_at
 * @property {string} ip
 * @property {Record<string, any>|null} device
 * @property {boolean} current     the caller's own session
 *
 * @typedef {Object} LockManagerLike  The subset of the Web Locks API used.
 * @property {(name: string, options: {ifAvailable?: boolean, signal?: AbortSignal},
 *   callback: (lock: object|null) => Promise<any>) => Promise<any>} request
 *
 * @typedef {Object} ChannelLike  The subset of BroadcastChannel used.
 * @property {(message: any) => void} postMessage
 * @property {(type: 'message', listener: (event: {data: any}) => void) => void} addEventListener
 * @property {(type: 'message', listener: (event: {data: any}) => void) => void} [removeEventListener]
 * @property {() => void} close
 *
 * @typedef {Object} TimersLike
 * @property {(fn: () => void, ms: number) => any} setTimeout
 * @property {(id: any) => void} clearTimeout
 *
 * @typedef {Object} StorageLike  e.g. localStorage; token mode only, opt-in.
 * @property {(key: string) => string|null} getItem
 * @property {(key: string, value: string) => void} setItem
 * @property {(key: string) => void} removeItem
 *
 * @typedef {Object} SessionClientOptions
 * @property {string} [baseUrl]  Origin (and optional path prefix) of sessiond. Default: `location.origin`.
 * @property {SessionMode} [mode]  Default `cookie`.
 * @property {typeof fetch} [fetch]  Default: the global fetch.
 * @property {() => number} [now]  Monotonic milliseconds. Default: `performance.now()`.
 * @property {TimersLike} [timers]  Default: the global setTimeout/clearTimeout.
 * @property {() => number} [random]  In [0, 1), for jitter. Default: Math.random.
 * @property {LockManagerLike|null} [locks]  Default: `navigator.locks`; null disables.
 * @property {ChannelLike|null|((name: string) => ChannelLike)} [broadcastChannel]
 *   A channel, a factory, or null to disable. Default: `new BroadcastChannel(channelName)`.
 * @property {string} [channelName]  Default `sessiond:` + baseUrl.
 * @property {string} [lockName]  Default {@link LOCK_NAME}.
 * @property {(state: SessionSnapshot) => void} [onChange]  Same as `on('change', fn)`.
 * @property {StorageLike|null} [storage]  Token mode only: persist the refresh token here.
 *   Default null (memory only). See README for the XSS risk.
 * @property {string} [storageKey]  Default `sessiond.refresh`.
 * @property {'auto'|false|null|Object|(() => Promise<Object|undefined>)} [device]
 *   Fingerprint sent on sign-in and refresh. `auto` (default in browsers) calls
 *   collectDevice() once; false/null sends none.
 * @property {string[]} [tokenOrigins]  Origins client.fetch attaches the bearer to.
 *   Default: the origin of baseUrl only.
 * @property {number} [refreshRatio]  Share of the lifetime after which to refresh. Default 0.8.
 * @property {number} [minRefreshDelayMs]  Floor between a token's receipt and its refresh. Default 5000.
 * @property {number} [expiryMarginMs]  A token counts as expired this early (at most half its life). Default 2000.
 * @property {number} [maxRetries]  Retries after the first attempt on transient failures. Default 4.
 * @property {number} [backoffBaseMs]  Default 500.
 * @property {number} [backoffMaxMs]  Default 8000.
 * @property {number} [maxRetryAfterMs]  Longer Retry-After: give up now and schedule later. Default 60000.
 * @property {number} [retryLaterMs]  Next background attempt after a failed one. Default 30000.
 * @property {number} [requestTimeoutMs]  Default 15000.
 * @property {number} [lockTimeoutMs]  Longest wait for the cross-tab lock. Default 60000.
 * @property {number} [electionWindowMs]  BroadcastChannel fallback: claim window. Default 80.
 * @property {number} [peerResultTimeoutMs]  Fallback: how long a follower waits for the leader. Default 20000.
 * @property {number} [peerTimeoutMs]  How long to wait for peers to answer a query. Default 150.
 */

const DEFAULTS = Object.freeze({
  refreshRatio: 0.8,
  minRefreshDelayMs: 5_000,
  expiryMarginMs: 2_000,
  maxRetries: 4,
  backoffBaseMs: 500,
  backoffMaxMs: 8_000,
  maxRetryAfterMs: 60_000,
  retryLaterMs: 30_000,
  requestTimeoutMs: 15_000,
  lockTimeoutMs: 60_000,
  electionWindowMs: 80,
  peerResultTimeoutMs: 20_000,
  peerTimeoutMs: 150,
});

const MAX_TIMER_MS = 2_147_483_647;
const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);

/**
 * SessionError is what the client's promises reject with.
 * `code` is the server's error code when there was one (`invalid_grant`,
 * `unauthorized`, `forbidden`, `not_found`, `rate_limited`, `unavailable`, ...)
 * or one of the client's own: `signed_out` (no session; `reason` says why),
 * `network` (no answer after the retries), `bad_response`, `http`.
 */
export class SessionError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{status?: number, retryAfterMs?: number|null, reason?: string|null, cause?: unknown}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'SessionError';
    /** @type {string} */
    this.code = code;
    /** @type {number} HTTP status, 0 when there was no response. */
    this.status = extra.status ?? 0;
    /** @type {number|null} The server's Retry-After in ms, when it sent one. */
    this.retryAfterMs = extra.retryAfterMs ?? null;
    /** @type {string|null} For `signed_out`: why. */
    this.reason = extra.reason ?? null;
  }

  /** Whether a later attempt may succeed (network trouble, 429, 5xx). */
  get transient() {
    return this.code === 'network' || TRANSIENT_STATUS.has(this.status);
  }
}

/**
 * createSessionClient returns a client for one sessiond origin. Call
 * `restore()` on page load (cookie mode: adopts the session of the cookie),
 * then `fetch()` for API calls. Call `close()` when done (tests, SPA teardown).
 * @param {SessionClientOptions} [options]
 * @returns {SessionClient}
 */
export function createSessionClient(options = {}) {
  return new SessionClient(options);
}

/**
 * @typedef {Object} ParsedTokens  A create/refresh response, as the client keeps it.
 * @property {string} access
 * @property {number} lifetimeMs
 * @property {string|null} refreshToken
 * @property {string|null} sessionId
 * @property {string|null} userId
 * @property {Object|null} session
 *
 * @typedef {Object} TokenState
 * @property {string} access
 * @property {number} lifetimeMs   expires_in as received, in ms
 * @property {number} receivedAt   monotonic ms at receipt (earlier when adopted from a peer)
 * @property {string|null} refreshToken  token mode only
 */

export class SessionClient {
  /** @type {Record<keyof typeof DEFAULTS, number>} */
  #o;
  /** @type {SessionMode} */ #mode;
  /** @type {string} */ #base;
  /** @type {typeof fetch} */ #fetchImpl;
  /** @type {() => number} */ #now;
  /** @type {TimersLike} */ #timers;
  /** @type {() => number} */ #random;
  /** @type {LockManagerLike|null} */ #locks;
  /** @type {ChannelLike|null} */ #channel = null;
  /** @type {string} */ #lockName;
  /** @type {StorageLike|null} */ #storage;
  /** @type {string} */ #storageKey;
  /** @type {SessionClientOptions['device']} */ #deviceOpt;
  /** @type {Promise<Object|undefined>|null} */ #devicePromise = null;
  /** @type {Set<string>} */ #tokenOrigins;
  /** @type {string} */ #tabId;

  /** @type {TokenState|null} */ #tok = null;
  /** @type {SessionStatus} */ #status = 'unknown';
  /** @type {string|null} */ #reason = null;
  #remote = false;
  /** @type {string|null} */ #userId = null;
  /** @type {string|null} */ #sessionId = null;
  /** @type {Object|null} */ #session = null;
  /** Bumped on every adoption and sign-out: lets a waiter see that someone else acted. */
  #version = 0;
  /** After a transient refresh failure: no automatic or on-demand attempt before this (monotonic ms). */
  #backoffUntil = -Infinity;
  /** @type {SessionError|null} */ #lastFailure = null;

  /** @type {Promise<SessionSnapshot>|null} */ #inflight = null;
  /** @type {any} */ #refreshTimer = null;
  /** @type {Set<any>} */ #timerIds = new Set();
  /** @type {Set<() => void>} */ #waiters = new Set();
  /** @type {Map<string, (msg: any) => void>} */ #queries = new Map();
  /** @type {Map<string, Set<Function>>} */ #listeners = new Map();
  #closed = false;
  /** @type {(() => void)|null} */ #detachGlobal = null;
  /** @type {((ev: {data: any}) => void)|null} */ #onMessageBound = null;

  // BroadcastChannel election (used only without Web Locks).
  #leading = false;
  #collecting = false;
  /** @type {Set<string>} */ #claims = new Set();
  #sawBusy = false;
  /** @type {number|null} */ #peerClaimAt = null;
  /** Count of `released` messages: a leader finished, whether or not it succeeded. */
  #releases = 0;

  /** @param {SessionClientOptions} [options] */
  constructor(options = {}) {
    const g = /** @type {any} */ (globalThis);
    const mode = options.mode ?? 'cookie';
    if (mode !== 'cookie' && mode !== 'token') {
      throw new TypeError(`session-client: mode must be "cookie" or "token", not ${JSON.stringify(mode)}`);
    }
    this.#mode = mode;
    const base = options.baseUrl ?? g.location?.origin;
    if (typeof base !== 'string' || !/^https?:\/\//i.test(base)) {
      throw new TypeError('session-client: baseUrl must be an absolute http(s) URL');
    }
    this.#base = base.replace(/\/+$/, '');
    const o = { ...DEFAULTS };
    for (const k of /** @type {(keyof typeof DEFAULTS)[]} */ (Object.keys(DEFAULTS))) {
      const v = /** @type {any} */ (options)[k];
      if (v !== undefined) {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
          throw new TypeError(`session-client: ${k} must be a non-negative number`);
        }
        /** @type {any} */ (o)[k] = v;
      }
    }
    if (o.refreshRatio <= 0 || o.refreshRatio >= 1) throw new TypeError('session-client: refreshRatio must be in (0, 1)');
    this.#o = o;
    const f = options.fetch ?? g.fetch;
    if (typeof f !== 'function') throw new TypeError('session-client: no fetch available');
    this.#fetchImpl = options.fetch ?? ((/** @type {any} */ i, /** @type {any} */ n) => g.fetch(i, n));
    this.#now = options.now ?? (() => g.performance.now());
    this.#timers = options.timers ?? {
      setTimeout: (fn, ms) => g.setTimeout(fn, ms),
      clearTimeout: (id) => g.clearTimeout(id),
    };
    this.#random = options.random ?? Math.random;
    this.#locks = options.locks === undefined ? (g.navigator?.locks ?? null) : options.locks;
    this.#lockName = options.lockName ?? LOCK_NAME;
    this.#storage = this.#mode === 'token' ? (options.storage ?? null) : null;
    this.#storageKey = options.storageKey ?? 'sessiond.refresh';
    this.#deviceOpt = options.device === undefined ? (g.document ? 'auto' : null) : options.device;
    this.#tokenOrigins = new Set((options.tokenOrigins ?? [this.#base]).map((u) => new URL(u).origin));
    this.#tabId = randomId();

    const channelName = options.channelName ?? `sessiond:${this.#base}`;
    const bc = options.broadcastChannel;
    try {
      if (bc === undefined) {
        this.#channel = typeof g.BroadcastChannel === 'function' ? new g.BroadcastChannel(channelName) : null;
      } else if (typeof bc === 'function') {
        this.#channel = bc(channelName);
      } else {
        this.#channel = bc;
      }
    } catch {
      this.#channel = null;
    }
    if (this.#channel) {
      this.#onMessageBound = (ev) => this.#onMessage(ev);
      this.#channel.addEventListener('message', this.#onMessageBound);
    }
    if (options.onChange) this.on('change', options.onChange);
    this.#attachGlobalListeners();
  }

  // ---------------------------------------------------------------- public API

  /** The mode this client was created with. */
  get mode() {
    return this.#mode;
  }

  /**
   * snapshot returns the current state (never a token).
   * @returns {SessionSnapshot}
   */
  snapshot() {
    const t = this.#tok;
    return {
      mode: this.#mode,
      status: this.#status,
      userId: this.#userId,
      sessionId: this.#sessionId,
      expiresInMs: t ? Math.max(0, t.receivedAt + t.lifetimeMs - this.#now()) : null,
      reason: this.#reason,
      remote: this.#remote,
      session: this.#session,
    };
  }

  /**
   * on subscribes to `change` (a SessionSnapshot), `signed-out`
   * ({reason, remote}) or `error` (a SessionError from a background refresh).
   * @param {'change'|'signed-out'|'error'} type
   * @param {(payload: any) => void} listener
   * @returns {() => void} unsubscribe
   */
  on(type, listener) {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * restore settles the status on page load. It first asks other tabs of the
   * origin for their tokens (no server call when one answers); otherwise, in
   * cookie mode, it refreshes with the cookie (if there is none the server
   * answers invalid_grant and the status becomes signed-out, reason
   * `no_session`); in token mode it uses the stored refresh token, if the app
   * opted into storage. Never rejects for "no session"; rejects with a
   * transient SessionError when the server could not be reached.
   * @returns {Promise<SessionSnapshot>}
   */
  async restore() {
    if (this.#status === 'signed-in' && this.#tok && !this.#isDue(this.#tok)) return this.snapshot();
    if (this.#mode === 'token' && !this.#tok?.refreshToken) this.#loadStored();
    await this.#askPeers();
    if (this.#status === 'signed-in' && this.#tok && !this.#isDue(this.#tok)) return this.snapshot();
    if (this.#mode === 'token' && !this.#tok?.refreshToken) {
      this.#signOut('no_session', { broadcast: false });
      return this.snapshot();
    }
    try {
      return await this.refresh();
    } catch (err) {
      if (err instanceof SessionError && err.code === 'signed_out') return this.snapshot();
      throw err;
    }
  }

  /**
   * refresh rotates the session now. Concurrent calls in this tab share one
   * promise; across tabs only one tab talks to the server (see module doc).
   * Rejects with SessionError: `signed_out` (and the client is signed out)
   * on invalid_grant, or a transient error after the retries.
   * @returns {Promise<SessionSnapshot>}
   */
  refresh() {
    if (this.#closed) return Promise.reject(new SessionError('closed', 'session-client: closed'));
    if (this.#inflight) return this.#inflight;
    const p = this.#refreshSingleFlight().finally(() => {
      if (this.#inflight === p) this.#inflight = null;
    });
    this.#inflight = p;
    return p;
  }

  /**
   * getAccessToken returns a usable access token, refreshing first when it
   * has expired (or when there is none yet). When the token is merely due,
   * it is returned and a refresh starts in the background.
   * @returns {Promise<string>}
   */
  async getAccessToken() {
    if (this.#status === 'signed-out') throw this.#signedOutError();
    const t = this.#tok;
    // A token received less than the floor ago is used even if the server
    // gave it a tiny lifetime: that is what keeps a broken expires_in from
    // turning every call into a refresh.
    if (t && t.access && (!this.#isExpired(t) || this.#now() - t.receivedAt < this.#o.minRefreshDelayMs)) {
      if (this.#isDue(t)) this.#background();
      return t.access;
    }
    // The server was just unreachable: fail fast instead of hammering it
    // from every call; the scheduled retry (or an explicit refresh) goes on.
    if (this.#lastFailure && this.#now() < this.#backoffUntil && !this.#inflight) throw this.#lastFailure;
    await this.refresh();
    if (!this.#tok) throw this.#signedOutError();
    return this.#tok.access;
  }

  /**
   * fetch is window.fetch with `Authorization: Bearer <access token>` added
   * for the origins in `tokenOrigins` (others get a plain fetch: the token is
   * never sent elsewhere). On a 401 it refreshes (unless another caller
   * already did) and retries once; if the refresh fails the 401 response is
   * returned. Streamed bodies are not retried. Rejects with SessionError
   * `signed_out` when there is no session.
   * @param {RequestInfo|URL} input
   * @param {RequestInit} [init]
   * @returns {Promise<Response>}
   */
  async fetch(input, init = {}) {
    const url = this.#resolve(input);
    if (!url || !this.#tokenOrigins.has(url.origin)) return this.#fetchImpl(input, init);
    const g = /** @type {any} */ (globalThis);
    const req = typeof g.Request === 'function' && input instanceof g.Request ? /** @type {Request} */ (input) : null;
    // A Request is cloned for each attempt; a stream in init cannot be replayed.
    const replayable = !isStream(init.body);
    const send = (/** @type {string} */ token) => {
      const headers = new Headers(init.headers ?? req?.headers ?? undefined);
      headers.set('Authorization', `Bearer ${token}`);
      return this.#fetchImpl(req ? req.clone() : input, { ...init, headers });
    };
    const token = await this.getAccessToken();
    const res = await send(token);
    if (res.status !== 401 || !replayable) return res;
    if (this.#tok?.access === token) {
      try {
        await this.refresh();
      } catch (err) {
        if (!(err instanceof SessionError && err.code === 'signed_out')) this.#emit('error', err);
        return res;
      }
    }
    const next = this.#tok?.access;
    if (!next || next === token) return res;
    return send(next);
  }

  /**
   * setSession adopts the JSON of a create-session response that your back
   * end obtained (it holds the admin key; the browser never does). In cookie
   * mode a `refresh_token` in it is ignored: the cookie carries it.
   * @param {Object} createResponse
   * @returns {SessionSnapshot}
   */
  setSession(createResponse) {
    this.#adopt(this.#parseTokens(createResponse), 'sign-in');
    return this.snapshot();
  }

  /**
   * signInWithCode exchanges an authorization code (+ PKCE verifier) at
   * POST /api/sessions. `device` defaults to the client's fingerprint.
   * @param {{code: string, codeVerifier: string, redirectUri: string, device?: Object}} args
   * @returns {Promise<SessionSnapshot>}
   */
  async signInWithCode({ code, codeVerifier, redirectUri, device }) {
    if (!code || !codeVerifier || !redirectUri) throw new TypeError('signInWithCode: code, codeVerifier and redirectUri are required');
    return this.signInVia('/api/sessions', { code, code_verifier: codeVerifier, redirect_uri: redirectUri, device });
  }

  /**
   * signInWithIdToken proves the user with an upstream ID token at POST /api/sessions.
   * @param {{idToken: string, device?: Object}} args
   * @returns {Promise<SessionSnapshot>}
   */
  async signInWithIdToken({ idToken, device }) {
    if (!idToken) throw new TypeError('signInWithIdToken: idToken is required');
    return this.signInVia('/api/sessions', { id_token: idToken, device });
  }

  /**
   * signInVia POSTs `body` (plus the device fingerprint unless `body.device`
   * is set) to an endpoint that answers with the create-session JSON: POST
   * /api/sessions, the dev server's /dev/sign-in, or your own back end's
   * sign-in route (relative paths are under baseUrl). Cookie mode sends the
   * CSRF header and credentials, so the server can set the cookie. Not
   * retried: an authorization code is single-use.
   * @param {string} path
   * @param {Record<string, any>} body
   * @returns {Promise<SessionSnapshot>}
   */
  async signInVia(path, body) {
    const payload = { ...body };
    if (payload.device === undefined) {
      const d = await this.#device();
      if (d) payload.device = d;
    }
    if (payload.device === undefined || payload.device === null) delete payload.device;
    const res = await this.#send(path, { method: 'POST', json: payload, cookie: true });
    if (res.status !== 200 && res.status !== 201) throw errorFrom(res);
    this.#adopt(this.#parseTokens(res.json), 'sign-in');
    return this.snapshot();
  }

  /**
   * logout revokes this session at POST /api/revoke (cookie mode: the cookie,
   * with the CSRF header; token mode: `token` = the refresh token) and signs
   * out every tab of the origin. Local sign-out happens whatever the server
   * said; `revoked` tells whether the server confirmed it.
   * @returns {Promise<{revoked: boolean, error: SessionError|null}>}
   */
  async logout() {
    if (this.#inflight) await this.#inflight.catch(() => {});
    return this.#withCrossTabLock(async () => {
      /** @type {SessionError|null} */
      let error = null;
      let revoked = false;
      try {
        /** @type {Object|null} */
        let body = null;
        if (this.#mode === 'cookie') body = {};
        else if (this.#tok?.refreshToken) body = { token: this.#tok.refreshToken, token_type_hint: 'refresh_token' };
        else if (this.#tok?.access) body = { token: this.#tok.access, token_type_hint: 'access_token' };
        if (body) {
          const res = await this.#sendWithRetry('/api/revoke', body);
          if (res.status !== 200) throw errorFrom(res);
          revoked = true;
        }
      } catch (err) {
        error = asSessionError(err);
      }
      this.#signOut('logout', { broadcast: true });
      return { revoked, error };
    });
  }

  /**
   * listSessions returns the caller's live sessions (GET /api/sessions), each
   * `{session_id, state, created_at, last_active_at, expires_at, ip, device, current}`.
   * Rejects with SessionError `signed_out` when the session turned out to be
   * over (401, then invalid_grant on the refresh).
   * @returns {Promise<SessionInfo[]>}
   */
  async listSessions() {
    const res = await this.fetch(this.#url('/api/sessions'), { headers: { Accept: 'application/json' } });
    const json = await readJson(res);
    if (res.status === 401 && this.#status === 'signed-out') throw this.#signedOutError();
    if (res.status !== 200) throw errorFrom({ status: res.status, headers: res.headers, json });
    return Array.isArray(json?.sessions) ? json.sessions : [];
  }

  /**
   * endSession ends one of the user's sessions (DELETE /api/sessions?session_id=).
   * Ending the current session is a logout().
   * @param {string} sessionId
   * @returns {Promise<void>}
   */
  async endSession(sessionId) {
    if (typeof sessionId !== 'string' || !sessionId) throw new TypeError('endSession: sessionId is required');
    if (sessionId === this.#sessionId) {
      const r = await this.logout();
      if (r.error) throw r.error;
      return;
    }
    const res = await this.fetch(this.#url(`/api/sessions?session_id=${encodeURIComponent(sessionId)}`), {
      method: 'DELETE',
      headers: { Accept: 'application/json' },
    });
    if (res.status === 204 || res.status === 200) return;
    if (res.status === 401 && this.#status === 'signed-out') throw this.#signedOutError();
    throw errorFrom({ status: res.status, headers: res.headers, json: await readJson(res) });
  }

  /**
   * endOtherSessions ends every session of the user but this one: it lists
   * them and deletes each (a browser has no admin key, so there is no single
   * "revoke all" call for it). A session that is already gone counts as ended.
   * @returns {Promise<{ended: number, failed: Array<{sessionId: string, error: SessionError}>}>}
   */
  async endOtherSessions() {
    const sessions = await this.listSessions();
    const others = sessions.filter((s) => s && !s.current && s.session_id !== this.#sessionId);
    const results = await Promise.allSettled(others.map((s) => this.endSession(s.session_id)));
    let ended = 0;
    /** @type {Array<{sessionId: string, error: SessionError}>} */
    const failed = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled' || (r.reason instanceof SessionError && r.reason.status === 404)) ended++;
      else failed.push({ sessionId: others[i].session_id, error: asSessionError(r.reason) });
    });
    return { ended, failed };
  }

  /**
   * logoutEverywhere ends the other sessions (endOtherSessions), then this
   * one (logout). This tab is signed out even when some of it failed.
   * @returns {Promise<{ended: number, failed: Array<{sessionId: string, error: SessionError}>}>}
   */
  async logoutEverywhere() {
    let ended = 0;
    /** @type {Array<{sessionId: string, error: SessionError}>} */
    let failed = [];
    try {
      ({ ended, failed } = await this.endOtherSessions());
    } catch (err) {
      failed = [{ sessionId: '*', error: asSessionError(err) }];
    }
    const sid = this.#sessionId;
    const r = await this.logout();
    if (r.revoked) ended++;
    else if (r.error) failed.push({ sessionId: sid ?? '', error: r.error });
    return { ended, failed };
  }

  /** close stops timers, leaves the channel and drops listeners. The state is kept. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of this.#timerIds) this.#timers.clearTimeout(id);
    this.#timerIds.clear();
    this.#refreshTimer = null;
    for (const w of [...this.#waiters]) w();
    for (const q of [...this.#queries.values()]) q(null);
    if (this.#channel) {
      if (this.#onMessageBound) this.#channel.removeEventListener?.('message', this.#onMessageBound);
      try {
        this.#channel.close();
      } catch {
        // ignore
      }
    }
    this.#detachGlobal?.();
    this.#listeners.clear();
  }

  // ------------------------------------------------------------- refresh core

  /** @returns {Promise<SessionSnapshot>} */
  async #refreshSingleFlight() {
    const startVersion = this.#version;
    return this.#withCrossTabLock(async (contended) => {
      if (this.#version !== startVersion) {
        // Another tab acted while we waited for the lock.
        if (this.#status === 'signed-out') throw this.#signedOutError();
        if (this.#tok && !this.#isDue(this.#tok)) return this.snapshot();
      }
      if (contended || this.#mode === 'token') {
        // We waited for a tab that may have rotated and our copy of its
        // broadcast may be late (or we are a token-mode tab whose refresh
        // token may be stale): ask before rotating again.
        if (this.#mode === 'token' && this.#storage) this.#loadStored();
        const before = this.#version;
        await this.#askPeers();
        if (this.#version !== before && this.#tok && !this.#isDue(this.#tok)) return this.snapshot();
      }
      if (this.#mode === 'token' && !this.#tok?.refreshToken) {
        this.#signOut(this.#status === 'signed-in' ? 'no_refresh_token' : 'no_session', { broadcast: false });
        throw this.#signedOutError();
      }
      const wasSignedIn = this.#status === 'signed-in';
      const sent = this.#version;
      let tokens;
      try {
        tokens = await this.#refreshOverHttp();
      } catch (err) {
        if (err instanceof SessionError) this.#noteFailure(err);
        if (err instanceof SessionError && err.code === 'invalid_grant') {
          if (this.#version === sent) {
            this.#signOut(wasSignedIn ? 'invalid_grant' : 'no_session', { broadcast: wasSignedIn });
          }
          throw this.#signedOutError();
        }
        throw err;
      }
      if (this.#version !== sent && this.#status === 'signed-out') {
        // Signed out (logout, another tab) while the request was out: drop the result.
        throw this.#signedOutError();
      }
      this.#adopt(tokens, 'refresh');
      return this.snapshot();
    });
  }

  /** @returns {Promise<ParsedTokens>} */
  async #refreshOverHttp() {
    /** @type {Record<string, any>} */
    const body = {};
    if (this.#mode === 'token') body.refresh_token = this.#tok?.refreshToken;
    const device = await this.#device();
    if (device) body.device = device;
    const res = await this.#sendWithRetry('/api/refresh', body);
    if (res.status === 200) return this.#parseTokens(res.json);
    const code = res.json?.error;
    if (res.status === 400 && (code === 'invalid_grant' || (this.#mode === 'cookie' && code === 'invalid_request'))) {
      // Cookie mode: invalid_request is what a server says when no cookie came.
      throw new SessionError('invalid_grant', 'session-client: the server refused the refresh', { status: 400 });
    }
    throw errorFrom(res);
  }

  /**
   * #sendWithRetry POSTs JSON to a cookie-bearing endpoint, retrying network
   * errors and 429/502/503/504 with backoff. Returns the last response.
   * @param {string} path
   * @param {Object} body
   */
  async #sendWithRetry(path, body) {
    for (let attempt = 0; ; attempt++) {
      /** @type {SessionError} */
      let failure;
      try {
        const res = await this.#send(path, { method: 'POST', json: body, cookie: true });
        if (!TRANSIENT_STATUS.has(res.status)) return res;
        failure = errorFrom(res);
      } catch (err) {
        failure = asSessionError(err);
        if (!failure.transient) throw failure;
      }
      if (this.#closed || attempt >= this.#o.maxRetries) throw failure;
      let delay;
      if (failure.retryAfterMs != null) {
        if (failure.retryAfterMs > this.#o.maxRetryAfterMs) throw failure;
        // Never earlier than asked; up to 10% later so tabs and clients spread.
        delay = failure.retryAfterMs + Math.floor(this.#random() * failure.retryAfterMs * 0.1);
      } else {
        delay = this.backoffDelay(attempt);
      }
      await this.#sleep(delay);
    }
  }

  /**
   * backoffDelay is the wait before retry number `attempt + 1`: exponential
   * (base * 2^attempt, capped at backoffMaxMs) with "equal jitter" (between
   * half and all of it), so it is bounded above and below.
   * @param {number} attempt  0 for the first retry
   * @returns {number} milliseconds
   */
  backoffDelay(attempt) {
    const exp = Math.min(this.#o.backoffMaxMs, this.#o.backoffBaseMs * 2 ** attempt);
    return Math.round(exp / 2 + this.#random() * (exp / 2));
  }

  /**
   * @param {any} json
   * @returns {ParsedTokens}
   */
  #parseTokens(json) {
    if (!json || typeof json !== 'object' || typeof json.access_token !== 'string' || !json.access_token) {
      throw new SessionError('bad_response', 'session-client: the response has no access_token');
    }
    const expiresIn = Number(json.expires_in);
    const claims = decodeJwtPayload(json.access_token);
    return {
      access: /** @type {string} */ (json.access_token),
      lifetimeMs: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : 0,
      refreshToken: this.#mode === 'token' && typeof json.refresh_token === 'string' && json.refresh_token ? json.refresh_token : null,
      sessionId: str(json.session_id) ?? str(json.session?.session_id) ?? str(claims?.sid),
      userId: str(json.user_id) ?? str(json.session?.user_id) ?? str(claims?.sub),
      session: json.session && typeof json.session === 'object' ? json.session : null,
    };
  }

  /**
   * #adopt makes tokens current. `refresh` and `sign-in` come from this tab's
   * own server call and are broadcast; `peer` came from another tab.
   * @param {ParsedTokens} t
   * @param {'refresh'|'sign-in'|'peer'} source
   * @param {number} [ageMs]  how old the token already is (peer adoption)
   */
  #adopt(t, source, ageMs = 0) {
    const sameSession = t.sessionId != null && t.sessionId === this.#sessionId;
    this.#tok = {
      access: t.access,
      lifetimeMs: t.lifetimeMs,
      receivedAt: this.#now() - Math.max(0, ageMs),
      refreshToken: this.#mode === 'token' ? t.refreshToken : null,
    };
    if (t.userId) this.#userId = t.userId;
    else if (!sameSession) this.#userId = null;
    if (t.sessionId) this.#sessionId = t.sessionId;
    if (t.session) this.#session = t.session;
    else if (!sameSession) this.#session = null;
    this.#status = 'signed-in';
    this.#reason = null;
    this.#remote = false;
    this.#peerClaimAt = null;
    this.#lastFailure = null;
    this.#backoffUntil = -Infinity;
    this.#version++;
    this.#persist();
    this.#scheduleAt(this.#refreshAt(this.#tok));
    if (source !== 'peer') this.#post({ t: 'tokens', ...this.#tokenMessage() });
    this.#wake();
    this.#emit('change', this.snapshot());
  }

  /**
   * @param {string} reason
   * @param {{broadcast: boolean, remote?: boolean}} how
   */
  #signOut(reason, how) {
    const had = this.#status === 'signed-in';
    const sid = this.#sessionId;
    this.#tok = null;
    this.#status = 'signed-out';
    this.#reason = reason;
    this.#remote = !!how.remote;
    this.#userId = null;
    this.#sessionId = null;
    this.#session = null;
    this.#version++;
    this.#clearRefreshTimer();
    if (this.#storage) {
      try {
        this.#storage.removeItem(this.#storageKey);
      } catch {
        // storage may be unavailable (privacy mode); nothing to clear then
      }
    }
    if (how.broadcast) this.#post({ t: 'signed-out', session_id: sid, reason });
    this.#wake();
    if (had || reason !== 'no_session') this.#emit('signed-out', { reason, remote: this.#remote });
    this.#emit('change', this.snapshot());
  }

  #signedOutError() {
    return new SessionError('signed_out', 'session-client: signed out', { reason: this.#reason ?? 'no_session' });
  }

  /** @param {TokenState} t */
  #refreshAt(t) {
    return t.receivedAt + Math.max(this.#o.minRefreshDelayMs, this.#o.refreshRatio * t.lifetimeMs);
  }

  /** @param {TokenState} t */
  #isDue(t) {
    return this.#now() >= this.#refreshAt(t);
  }

  /** @param {TokenState} t */
  #isExpired(t) {
    const margin = Math.min(this.#o.expiryMarginMs, t.lifetimeMs / 2);
    return this.#now() >= t.receivedAt + t.lifetimeMs - margin;
  }

  /** @param {number} at monotonic ms */
  #scheduleAt(at) {
    this.#clearRefreshTimer();
    if (this.#closed) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.#now()));
    this.#refreshTimer = this.#timer(() => {
      this.#refreshTimer = null;
      this.#background();
    }, delay);
  }

  #clearRefreshTimer() {
    if (this.#refreshTimer != null) {
      this.#timers.clearTimeout(this.#refreshTimer);
      this.#timerIds.delete(this.#refreshTimer);
      this.#refreshTimer = null;
    }
  }

  /** Background refresh: failures are reported, transient ones retried later. */
  #background() {
    if (this.#status !== 'signed-in' || this.#closed || this.#inflight) return;
    if (this.#now() < this.#backoffUntil) return;
    this.refresh().catch((err) => {
      const e = asSessionError(err);
      if (e.code === 'signed_out' || this.#closed) return;
      this.#emit('error', e);
    });
  }

  /**
   * #noteFailure records a transient failure: automatic attempts pause for
   * max(minRefreshDelayMs, Retry-After or retryLaterMs) and one is scheduled then.
   * @param {SessionError} e
   */
  #noteFailure(e) {
    if (!e.transient || this.#closed) return;
    const wait = Math.max(this.#o.minRefreshDelayMs, e.retryAfterMs ?? this.#o.retryLaterMs);
    this.#lastFailure = e;
    this.#backoffUntil = this.#now() + wait;
    if (this.#status === 'signed-in') this.#scheduleAt(this.#backoffUntil);
  }

  // -------------------------------------------------------- cross-tab locking

  /**
   * #withCrossTabLock runs fn while no other tab of the origin runs a
   * refresh/logout. `contended` is true when another tab held the lock first
   * (so it may just have rotated).
   * @template T
   * @param {(contended: boolean) => Promise<T>} fn
   * @returns {Promise<T>}
   */
  async #withCrossTabLock(fn) {
    const locks = this.#locks;
    if (!locks) return this.#channel ? this.#withElection(fn) : fn(false);
    const BUSY = Symbol('busy');
    let first;
    try {
      first = await locks.request(this.#lockName, { ifAvailable: true }, async (lock) => (lock ? fn(false) : BUSY));
    } catch (err) {
      if (isLockUnsupported(err)) return fn(false);
      throw err;
    }
    if (first !== BUSY) return first;
    const g = /** @type {any} */ (globalThis);
    const ac = typeof g.AbortController === 'function' ? new g.AbortController() : null;
    let entered = false;
    const timer = ac ? this.#timer(() => ac.abort(), this.#o.lockTimeoutMs) : null;
    try {
      return await locks.request(this.#lockName, ac ? { signal: ac.signal } : {}, async () => {
        entered = true;
        this.#dropTimer(timer);
        return fn(true);
      });
    } catch (err) {
      // The holder is stuck (a frozen tab): go ahead without the lock. The
      // server's grace window makes a racing rotation safe, only not minimal.
      if (!entered && ac?.signal.aborted) return fn(true);
      throw err;
    } finally {
      this.#dropTimer(timer);
    }
  }

  /**
   * #withElection is the BroadcastChannel fallback: tabs that want to
   * refresh announce a claim, wait electionWindowMs, and the smallest tab id
   * among the claims leads; a tab that sees a leader at work ("busy") or a
   * recent claim follows, waiting for the leader's broadcast result.
   * @template T
   * @param {(contended: boolean) => Promise<T>} fn
   * @returns {Promise<T>}
   */
  async #withElection(fn) {
    const startVersion = this.#version;
    const startReleases = this.#releases;
    const peerActive = this.#peerClaimAt != null && this.#now() - this.#peerClaimAt < this.#o.peerResultTimeoutMs;
    if (!peerActive) {
      this.#collecting = true;
      this.#claims = new Set();
      this.#sawBusy = false;
      this.#post({ t: 'claim' });
      await this.#sleep(this.#o.electionWindowMs);
      // One more turn of the event loop: a claim that arrived together with
      // our timer (a busy or throttled tab) is read before we decide.
      await this.#sleep(0);
      this.#collecting = false;
      const lead = !this.#sawBusy && [...this.#claims].every((id) => id > this.#tabId);
      if (lead && this.#version === startVersion) {
        this.#leading = true;
        try {
          return await fn(false);
        } finally {
          this.#leading = false;
          // Followers stop waiting even if we failed (they will try themselves).
          this.#post({ t: 'released' });
        }
      }
    }
    await this.#waitForPeerResult(startVersion, startReleases, this.#o.peerResultTimeoutMs);
    return fn(true);
  }

  /**
   * Resolves when the version moves past startVersion (a peer's tokens or
   * sign-out arrived), when a leader released, or after timeoutMs.
   * @param {number} startVersion
   * @param {number} startReleases
   * @param {number} timeoutMs
   * @returns {Promise<void>}
   */
  #waitForPeerResult(startVersion, startReleases, timeoutMs) {
    const settled = () => this.#version !== startVersion || this.#releases !== startReleases || this.#closed;
    if (settled()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(check);
        this.#dropTimer(timer);
        resolve();
      };
      const check = () => {
        if (settled()) done();
      };
      const timer = this.#timer(done, timeoutMs);
      this.#waiters.add(check);
    });
  }

  #wake() {
    for (const w of [...this.#waiters]) w();
  }

  /**
   * #askPeers asks the other tabs for their tokens and adopts the first
   * answer that is newer than ours (longer remaining lifetime). Resolves
   * true when it adopted one; false after peerTimeoutMs or without a channel.
   * @returns {Promise<boolean>}
   */
  #askPeers() {
    if (!this.#channel || this.#closed) return Promise.resolve(false);
    const qid = randomId();
    return new Promise((resolve) => {
      const finish = (/** @type {boolean} */ ok) => {
        this.#queries.delete(qid);
        this.#dropTimer(timer);
        resolve(ok);
      };
      const timer = this.#timer(() => finish(false), this.#o.peerTimeoutMs);
      this.#queries.set(qid, (msg) => {
        if (msg === null) return finish(false);
        if (this.#isNewer(msg)) {
          this.#adoptPeer(msg);
          finish(true);
        }
      });
      this.#post({ t: 'query', qid });
    });
  }

  /** @param {any} m a tokens/answer message */
  #isNewer(m) {
    if (typeof m.access_token !== 'string' || !m.access_token) return false;
    if (typeof m.remaining_ms !== 'number' || typeof m.lifetime_ms !== 'number' || m.remaining_ms <= 0) return false;
    const t = this.#tok;
    if (!t) return true;
    if (t.access === m.access_token) return false;
    return m.remaining_ms > t.receivedAt + t.lifetimeMs - this.#now();
  }

  /** @param {any} m */
  #adoptPeer(m) {
    this.#adopt(
      {
        access: m.access_token,
        lifetimeMs: m.lifetime_ms,
        refreshToken: this.#mode === 'token' ? str(m.refresh_token) : null,
        sessionId: str(m.session_id),
        userId: str(m.user_id),
        session: m.session && typeof m.session === 'object' ? m.session : null,
      },
      'peer',
      m.lifetime_ms - m.remaining_ms,
    );
  }

  #tokenMessage() {
    const t = /** @type {TokenState} */ (this.#tok);
    return {
      access_token: t.access,
      lifetime_ms: t.lifetimeMs,
      remaining_ms: t.receivedAt + t.lifetimeMs - this.#now(),
      // Token mode only: the tabs share one session, so they must share its
      // (rotating) refresh token or a stale copy would look like theft.
      refresh_token: this.#mode === 'token' ? t.refreshToken : undefined,
      session_id: this.#sessionId,
      user_id: this.#userId,
      session: this.#session,
    };
  }

  /** @param {{data: any}} ev */
  #onMessage(ev) {
    const m = ev?.data;
    if (this.#closed || !m || typeof m !== 'object' || m.from === this.#tabId) return;
    switch (m.t) {
      case 'tokens':
        this.#peerClaimAt = null;
        // A tab's own fresh result (refresh or sign-in): newer by construction,
        // unless it crossed a later one on the way.
        if (this.#isNewer(m)) this.#adoptPeer(m);
        break;
      case 'signed-out':
        this.#peerClaimAt = null;
        if (this.#status !== 'signed-out' && (!m.session_id || !this.#sessionId || m.session_id === this.#sessionId)) {
          this.#signOut(typeof m.reason === 'string' ? m.reason : 'logout', { broadcast: false, remote: true });
        }
        break;
      case 'query':
        if (this.#status === 'signed-in' && this.#tok && !this.#isExpired(this.#tok)) {
          this.#post({ t: 'answer', to: m.from, qid: m.qid, ...this.#tokenMessage() });
        }
        break;
      case 'answer':
        if (m.to === this.#tabId) this.#queries.get(m.qid)?.(m);
        break;
      case 'claim':
        if (this.#leading) this.#post({ t: 'busy' });
        else if (this.#collecting) this.#claims.add(String(m.from));
        else this.#peerClaimAt = this.#now();
        break;
      case 'released':
        this.#peerClaimAt = null;
        this.#releases++;
        this.#wake();
        break;
      case 'busy':
        if (this.#collecting) this.#sawBusy = true;
        else this.#peerClaimAt = this.#now();
        break;
    }
  }

  /** @param {Record<string, any>} msg */
  #post(msg) {
    if (!this.#channel || this.#closed) return;
    try {
      this.#channel.postMessage({ ...msg, from: this.#tabId });
    } catch {
      // A closed or unclonable channel must not break the session.
    }
  }

  // ----------------------------------------------------------------- helpers

  /**
   * @param {string} path
   * @param {{method: string, json?: Object, cookie?: boolean}} req
   * @returns {Promise<{status: number, headers: Headers, json: any}>}
   */
  async #send(path, req) {
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json' };
    if (req.json !== undefined) headers['Content-Type'] = 'application/json';
    const cookieMode = this.#mode === 'cookie' && req.cookie;
    if (cookieMode) headers[CSRF_HEADER] = '1';
    const g = /** @type {any} */ (globalThis);
    const ac = typeof g.AbortController === 'function' ? new g.AbortController() : null;
    const timer = ac ? this.#timer(() => ac.abort(), this.#o.requestTimeoutMs) : null;
    try {
      /** @type {Response} */
      let res;
      try {
        res = await this.#fetchImpl(this.#url(path), {
          method: req.method,
          headers,
          body: req.json !== undefined ? JSON.stringify(req.json) : undefined,
          credentials: cookieMode ? 'include' : 'same-origin',
          signal: ac?.signal,
        });
      } catch (err) {
        throw new SessionError('network', 'session-client: the server could not be reached', { cause: err });
      }
      const json = await readJson(res);
      return { status: res.status, headers: res.headers, json };
    } finally {
      this.#dropTimer(timer);
    }
  }

  /** @param {string} path */
  #url(path) {
    return /^https?:\/\//i.test(path) ? path : this.#base + (path.startsWith('/') ? path : `/${path}`);
  }

  /** @param {RequestInfo|URL} input */
  #resolve(input) {
    try {
      const g = /** @type {any} */ (globalThis);
      const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : /** @type {Request} */ (input).url;
      return new URL(raw, g.location?.href ?? `${this.#base}/`);
    } catch {
      return null;
    }
  }

  /** @returns {Promise<Object|undefined>} */
  #device() {
    const opt = this.#deviceOpt;
    if (!opt) return Promise.resolve(undefined);
    if (typeof opt === 'object') return Promise.resolve(opt);
    if (!this.#devicePromise) {
      const run = opt === 'auto' ? () => collectDevice() : /** @type {() => Promise<Object|undefined>} */ (opt);
      this.#devicePromise = Promise.resolve()
        .then(run)
        .catch(() => undefined);
    }
    return this.#devicePromise;
  }

  #persist() {
    if (!this.#storage || !this.#tok?.refreshToken) return;
    try {
      this.#storage.setItem(
        this.#storageKey,
        JSON.stringify({ refresh_token: this.#tok.refreshToken, session_id: this.#sessionId, user_id: this.#userId }),
      );
    } catch {
      // quota or privacy mode: memory still works
    }
  }

  /** Token mode with storage: take the stored refresh token if it differs from ours. */
  #loadStored() {
    if (!this.#storage) return;
    let saved;
    try {
      saved = JSON.parse(this.#storage.getItem(this.#storageKey) ?? 'null');
    } catch {
      return;
    }
    const rt = str(saved?.refresh_token);
    if (!rt || rt === this.#tok?.refreshToken) return;
    if (this.#tok) this.#tok.refreshToken = rt;
    else this.#tok = { access: '', lifetimeMs: 0, receivedAt: -Infinity, refreshToken: rt };
    if (!this.#sessionId) this.#sessionId = str(saved.session_id);
    if (!this.#userId) this.#userId = str(saved.user_id);
  }

  /**
   * @param {() => void} fn
   * @param {number} ms
   */
  #timer(fn, ms) {
    const id = this.#timers.setTimeout(() => {
      this.#timerIds.delete(id);
      fn();
    }, ms);
    this.#timerIds.add(id);
    return id;
  }

  /** @param {any} id */
  #dropTimer(id) {
    if (id == null) return;
    this.#timers.clearTimeout(id);
    this.#timerIds.delete(id);
  }

  /**
   * @param {number} ms
   * @returns {Promise<void>}
   */
  #sleep(ms) {
    return new Promise((resolve) => {
      this.#timer(() => resolve(), ms);
    });
  }

  /**
   * @param {string} type
   * @param {any} payload
   */
  #emit(type, payload) {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(payload);
      } catch (err) {
        const g = /** @type {any} */ (globalThis);
        if (typeof g.reportError === 'function') g.reportError(err);
        else g.console?.error(err);
      }
    }
  }

  #attachGlobalListeners() {
    const g = /** @type {any} */ (globalThis);
    if (typeof g.addEventListener !== 'function' || !g.document) return;
    const wake = () => {
      if (g.document.visibilityState === 'hidden') return;
      if (this.#status === 'signed-in' && this.#tok && this.#isDue(this.#tok)) this.#background();
    };
    g.document.addEventListener('visibilitychange', wake);
    g.addEventListener('online', wake);
    this.#detachGlobal = () => {
      g.document.removeEventListener('visibilitychange', wake);
      g.removeEventListener('online', wake);
    };
  }
}

// --------------------------------------------------------------- utilities

/** @param {unknown} v */
function str(v) {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** @param {unknown} body */
function isStream(body) {
  const g = /** @type {any} */ (globalThis);
  return typeof g.ReadableStream === 'function' && body instanceof g.ReadableStream;
}

/** @param {unknown} err */
function isLockUnsupported(err) {
  // Opaque origins and some sandboxed frames throw SecurityError from navigator.locks.
  return !!err && typeof err === 'object' && /** @type {any} */ (err).name === 'SecurityError';
}

/**
 * @param {Response} res
 * @returns {Promise<any>}
 */
async function readJson(res) {
  try {
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** @param {unknown} err */
function asSessionError(err) {
  if (err instanceof SessionError) return err;
  const e = /** @type {any} */ (err);
  return new SessionError('network', String(e?.message ?? err), { cause: err });
}

/**
 * @param {{status: number, headers?: Headers, json: any}} res
 * @returns {SessionError}
 */
function errorFrom(res) {
  const code = typeof res.json?.error === 'string' ? res.json.error : 'http';
  const desc = typeof res.json?.error_description === 'string' ? res.json.error_description : `HTTP ${res.status}`;
  return new SessionError(code, `session-client: ${code}: ${desc}`, {
    status: res.status,
    retryAfterMs: res.headers ? parseRetryAfter(res.headers.get('Retry-After'), res.headers.get('Date')) : null,
  });
}

/**
 * parseRetryAfter turns a Retry-After value (delay-seconds or an HTTP-date)
 * into milliseconds. An HTTP-date is measured against the response's own
 * `Date` header when present, so the device clock does not matter; only
 * without it does it fall back to Date.now().
 * @param {string|null} value
 * @param {string|null} [dateHeader]
 * @returns {number|null}
 */
export function parseRetryAfter(value, dateHeader) {
  if (value == null) return null;
  const s = String(value).trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  if (!/^[A-Za-z]{3},/.test(s)) return null; // IMF-fixdate starts with the day name
  const at = Date.parse(s);
  if (Number.isNaN(at)) return null;
  const ref = dateHeader ? Date.parse(dateHeader) : Number.NaN;
  return Math.max(0, at - (Number.isNaN(ref) ? Date.now() : ref));
}

/**
 * decodeJwtPayload reads a JWT's claims WITHOUT verifying it: only for
 * display (sub, sid) of a token the server just handed us. Null if malformed.
 * @param {string} token
 * @returns {Record<string, any>|null}
 */
export function decodeJwtPayload(token) {
  try {
    const part = token.split('.')[1];
    if (!part) return null;
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bin = atob(b64);
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

function randomId() {
  const g = /** @type {any} */ (globalThis);
  const bytes = new Uint8Array(12);
  if (g.crypto?.getRandomValues) g.crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** @param {Uint8Array} bytes */
function base64url(bytes) {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * createPkce makes an RFC 7636 pair: a 43-character verifier from 32 random
 * bytes and its S256 challenge. Keep the verifier (sessionStorage) until the
 * redirect comes back, then pass it to signInWithCode.
 * @returns {Promise<{verifier: string, challenge: string, method: 'S256'}>}
 */
export async function createPkce() {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  const verifier = base64url(bytes);
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { verifier, challenge: base64url(new Uint8Array(digest)), method: 'S256' };
}

/** randomState returns 128 random bits, base64url: an OAuth `state`. */
export function randomState() {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return base64url(bytes);
}

// ------------------------------------------------------ device fingerprint

const MAX_DEVICE_STRING = 512; // bytes; sessiond refuses longer strings (400)
const MAX_LANGUAGES = 32;
const MAX_LANGUAGE = 64;

const FONT_PROBES = [
  'Arial', 'Arial Black', 'Calibri', 'Cambria', 'Candara', 'Comic Sans MS', 'Consolas', 'Constantia',
  'Courier New', 'DejaVu Sans', 'DejaVu Serif', 'Droid Sans', 'Futura', 'Garamond', 'Geneva', 'Georgia',
  'Gill Sans', 'Helvetica', 'Helvetica Neue', 'Impact', 'Liberation Mono', 'Liberation Sans', 'Lucida Console',
  'Lucida Grande', 'Menlo', 'Monaco', 'Noto Sans', 'Noto Color Emoji', 'Optima', 'Palatino', 'Roboto',
  'Segoe UI', 'SF Pro Text', 'Tahoma', 'Times New Roman', 'Trebuchet MS', 'Ubuntu', 'Verdana',
];

/**
 * @typedef {Object} ParsedUserAgent
 * @property {string} [browser]
 * @property {string} [browser_version]
 * @property {string} [os]
 * @property {string} [os_version]
 * @property {'desktop'|'mobile'|'tablet'} [device_type]
 * @property {string} [device_vendor]
 */

/**
 * parseUserAgent extracts browser, OS and device type from a User-Agent
 * string. Small and deliberate: the common engines only; unknown parts are
 * left out rather than guessed.
 * @param {string} ua
 * @param {number} [touchPoints]  navigator.maxTouchPoints: tells an iPad in desktop mode from a Mac
 * @returns {ParsedUserAgent}
 */
export function parseUserAgent(ua, touchPoints = 0) {
  /** @type {ParsedUserAgent} */
  const out = {};
  if (typeof ua !== 'string' || !ua) return out;
  /** @type {Array<[RegExp, string]>} */
  const browsers = [
    [/\bEdg(?:e|A|iOS)?\/([\d.]+)/, 'Edge'],
    [/\b(?:OPR|Opera)\/([\d.]+)/, 'Opera'],
    [/\bSamsungBrowser\/([\d.]+)/, 'Samsung Internet'],
    [/\b(?:Firefox|FxiOS)\/([\d.]+)/, 'Firefox'],
    [/\bHeadlessChrome\/([\d.]+)/, 'Chrome Headless'],
    [/\bCriOS\/([\d.]+)/, 'Chrome'],
    [/\bChromium\/([\d.]+)/, 'Chromium'],
    [/\bChrome\/([\d.]+)/, 'Chrome'],
    [/\bVersion\/([\d.]+)(?:.*?)\bSafari\//, 'Safari'],
  ];
  for (const [re, name] of browsers) {
    const m = re.exec(ua);
    if (m) {
      out.browser = name;
      out.browser_version = m[1];
      break;
    }
  }
  const winVersions = /** @type {Record<string, string>} */ ({ '10.0': '10', '6.3': '8.1', '6.2': '8', '6.1': '7', '6.0': 'Vista', '5.1': 'XP' });
  let m;
  const iPadDesktop = /Macintosh/.test(ua) && touchPoints > 1;
  if ((m = /Windows NT ([\d.]+)/.exec(ua))) {
    out.os = 'Windows';
    out.os_version = winVersions[m[1]] ?? m[1];
  } else if ((m = /\b(iPhone|iPad|iPod)\b.*? OS ([\d_]+)/.exec(ua))) {
    out.os = m[1] === 'iPad' ? 'iPadOS' : 'iOS';
    out.os_version = m[2].replace(/_/g, '.');
    out.device_vendor = 'Apple';
  } else if (iPadDesktop) {
    out.os = 'iPadOS';
    out.device_vendor = 'Apple';
  } else if ((m = /Mac OS X ([\d_.]+)/.exec(ua))) {
    out.os = 'macOS';
    out.os_version = m[1].replace(/_/g, '.');
    out.device_vendor = 'Apple';
  } else if ((m = /Android ([\d.]+)/.exec(ua)) || /Android/.test(ua)) {
    out.os = 'Android';
    if (m) out.os_version = m[1];
  } else if (/\bCrOS\b/.test(ua)) {
    out.os = 'ChromeOS';
  } else if (/Linux/.test(ua)) {
    out.os = 'Linux';
  }
  if (/\biPad\b/.test(ua) || iPadDesktop || (/Android/.test(ua) && !/Mobile/.test(ua)) || /Tablet/.test(ua)) {
    out.device_type = 'tablet';
  } else if (/Mobi|iPhone|iPod|Android/.test(ua)) {
    out.device_type = 'mobile';
  } else if (out.os || out.browser) {
    out.device_type = 'desktop';
  }
  return out;
}

/**
 * @typedef {Object} CollectDeviceOptions
 * @property {any} [env]  Where to read navigator/screen/document from. Default globalThis.
 * @property {string[]} [skip]  Field names not to collect (e.g. the hashes).
 * @property {number} [timeoutMs]  Bound on each asynchronous probe. Default 1000.
 */

/**
 * collectDevice gathers the SPEC fingerprint fields a browser can give,
 * with no third-party code. Every field is optional and every probe is
 * guarded: it never throws (an odd browser just yields fewer fields). Types
 * follow SPEC: numbers as numbers (integers where sessiond expects integers),
 * booleans as booleans, `languages` as an array of strings;
 * `timezone_offset` is minutes east of UTC (CET: 60). Hashes are SHA-256
 * hex via crypto.subtle (omitted where it is missing, e.g. outside a secure
 * context).
 * @param {CollectDeviceOptions} [options]
 * @returns {Promise<Record<string, string|number|boolean|string[]>>}
 */
export async function collectDevice(options = {}) {
  /** @type {Record<string, string|number|boolean|string[]>} */
  const d = {};
  const env = options.env ?? globalThis;
  const skip = new Set(options.skip ?? []);
  const timeoutMs = options.timeoutMs ?? 1000;
  /** @param {string} key @param {() => any} probe @param {'string'|'int'|'number'|'bool'|'strings'} kind */
  const set = (key, probe, kind) => {
    if (skip.has(key)) return;
    try {
      const v = normalise(probe(), kind);
      if (v !== undefined) d[key] = v;
    } catch {
      // a probe that throws just leaves its field out
    }
  };
  const nav = tryGet(() => env.navigator);
  const scr = tryGet(() => env.screen);
  const ua = tryGet(() => nav.userAgent);
  const touch = tryGet(() => nav.maxTouchPoints);
  const parsed = tryGet(() => parseUserAgent(ua, typeof touch === 'number' ? touch : 0)) ?? {};

  set('user_agent', () => ua, 'string');
  set('platform', () => nav.platform || nav.userAgentData?.platform, 'string');
  for (const k of /** @type {const} */ (['os', 'os_version', 'browser', 'browser_version', 'device_type', 'device_vendor'])) {
    set(k, () => parsed[k], 'string');
  }
  set('language', () => nav.language, 'string');
  set('languages', () => nav.languages, 'strings');
  set('timezone', () => env.Intl.DateTimeFormat().resolvedOptions().timeZone, 'string');
  set('timezone_offset', () => -new env.Date().getTimezoneOffset(), 'int');
  set('screen_width', () => scr.width, 'int');
  set('screen_height', () => scr.height, 'int');
  set('color_depth', () => scr.colorDepth, 'int');
  set('pixel_ratio', () => env.devicePixelRatio, 'number');
  set('hardware_concurrency', () => nav.hardwareConcurrency, 'int');
  set('device_memory', () => nav.deviceMemory, 'number');
  set('touch_points', () => touch, 'int');
  set('cookies_enabled', () => nav.cookieEnabled, 'bool');
  set('do_not_track', () => {
    const v = nav.doNotTrack ?? env.doNotTrack ?? nav.msDoNotTrack;
    if (v === '1' || v === 'yes' || v === 1 || v === true) return true;
    if (v === '0' || v === 'no' || v === 0 || v === false) return false;
    return undefined;
  }, 'bool');

  /** @type {Array<Promise<void>>} */
  const jobs = [];
  /** @param {string} key @param {() => Promise<any>} probe */
  const later = (key, probe) => {
    if (skip.has(key)) return;
    jobs.push(
      withTimeout(Promise.resolve().then(probe), timeoutMs)
        .then((v) => {
          const s = normalise(v, 'string');
          if (s !== undefined) d[key] = s;
        })
        .catch(() => {}),
    );
  };
  // UA Client Hints: Windows 11 (platformVersion >= 13) and the Android model.
  if (!skip.has('os_version') || !skip.has('device_model')) {
    jobs.push(
      withTimeout(Promise.resolve().then(() => nav.userAgentData.getHighEntropyValues(['platformVersion', 'model'])), timeoutMs)
        .then((/** @type {any} */ hi) => {
          if (!skip.has('os_version') && d.os === 'Windows' && nav.userAgentData.platform === 'Windows') {
            const major = parseInt(String(hi.platformVersion), 10);
            if (major >= 13) d.os_version = '11';
          }
          const model = normalise(hi.model, 'string');
          if (!skip.has('device_model') && model !== undefined) d.device_model = model;
        })
        .catch(() => {}),
    );
  }
  const gl = skip.has('webgl_vendor') && skip.has('webgl_renderer') ? null : tryGet(() => webglInfo(env));
  if (gl) {
    set('webgl_vendor', () => gl.vendor, 'string');
    set('webgl_renderer', () => gl.renderer, 'string');
  }
  later('canvas_hash', async () => sha256Hex(env, canvasData(env)));
  later('audio_hash', async () => sha256Hex(env, await audioData(env)));
  later('fonts_hash', async () => sha256Hex(env, fontData(env)));
  await Promise.all(jobs);
  return d;
}

/**
 * @param {any} v
 * @param {'string'|'int'|'number'|'bool'|'strings'} kind
 */
function normalise(v, kind) {
  switch (kind) {
    case 'string':
      return typeof v === 'string' && v.trim() !== '' ? truncateBytes(v, MAX_DEVICE_STRING) : undefined;
    case 'int':
      return typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : undefined;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
    case 'bool':
      return typeof v === 'boolean' ? v : undefined;
    case 'strings': {
      if (v == null || typeof v === 'string' || typeof v[Symbol.iterator] !== 'function') return undefined;
      const list = Array.from(v)
        .filter((s) => typeof s === 'string' && s !== '' && new TextEncoder().encode(s).length <= MAX_LANGUAGE)
        .slice(0, MAX_LANGUAGES);
      return list.length ? list : undefined;
    }
  }
  return undefined;
}

/**
 * @param {string} s
 * @param {number} max
 */
function truncateBytes(s, max) {
  const enc = new TextEncoder();
  if (enc.encode(s).length <= max) return s;
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = enc.encode(ch).length;
    if (used + n > max) break;
    out += ch;
    used += n;
  }
  return out;
}

/**
 * @template T
 * @param {() => T} fn
 * @returns {T|undefined}
 */
function tryGet(fn) {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/**
 * @template T
 * @param {Promise<T>} p
 * @param {number} ms
 * @returns {Promise<T>}
 */
function withTimeout(p, ms) {
  return new Promise((resolve, reject) => {
    const id = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(id);
        resolve(v);
      },
      (e) => {
        clearTimeout(id);
        reject(e);
      },
    );
  });
}

/**
 * @param {any} env
 * @param {string|undefined} data
 */
async function sha256Hex(env, data) {
  if (typeof data !== 'string' || !data) return undefined;
  const digest = await env.crypto.subtle.digest('SHA-256', new TextEncoder().encode(data));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * @param {any} env
 * @param {number} w
 * @param {number} h
 */
function makeCanvas(env, w, h) {
  const c = env.document.createElement('canvas');
  c.width = w;
  c.height = h;
  return c;
}

/** @param {any} env */
function webglInfo(env) {
  const c = makeCanvas(env, 1, 1);
  const gl = c.getContext('webgl') || c.getContext('experimental-webgl');
  if (!gl) return undefined;
  try {
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return {
      vendor: (ext && gl.getParameter(ext.UNMASKED_VENDOR_WEBGL)) || gl.getParameter(gl.VENDOR),
      renderer: (ext && gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) || gl.getParameter(gl.RENDERER),
    };
  } finally {
    tryGet(() => gl.getExtension('WEBGL_lose_context')?.loseContext());
  }
}

/** @param {any} env */
function canvasData(env) {
  const c = makeCanvas(env, 240, 60);
  const ctx = c.getContext('2d');
  if (!ctx) return undefined;
  ctx.textBaseline = 'alphabetic';
  ctx.fillStyle = '#f60';
  ctx.fillRect(100, 1, 62, 20);
  ctx.fillStyle = '#069';
  ctx.font = '15px Arial, sans-serif';
  ctx.fillText('sessiond \u{1F512} Cwm fjordbank glyphs vext quiz', 2, 15);
  ctx.fillStyle = 'rgba(102, 204, 0, 0.7)';
  ctx.font = '18px Georgia, serif';
  ctx.fillText('sessiond \u00e9\u00df\u2603', 4, 45);
  ctx.globalCompositeOperation = 'multiply';
  ctx.beginPath();
  ctx.arc(200, 30, 20, 0, Math.PI * 2);
  ctx.fillStyle = 'rgb(255, 0, 255)';
  ctx.fill();
  return c.toDataURL();
}

/** @param {any} env */
async function audioData(env) {
  const Ctx = env.OfflineAudioContext || env.webkitOfflineAudioContext;
  if (typeof Ctx !== 'function') return undefined;
  const ctx = new Ctx(1, 5000, 44100);
  const osc = ctx.createOscillator();
  osc.type = 'triangle';
  osc.frequency.value = 10000;
  const comp = ctx.createDynamicsCompressor();
  comp.threshold.value = -50;
  comp.knee.value = 40;
  comp.ratio.value = 12;
  comp.attack.value = 0;
  comp.release.value = 0.25;
  osc.connect(comp);
  comp.connect(ctx.destination);
  osc.start(0);
  const buf = await ctx.startRendering();
  const samples = buf.getChannelData(0);
  let sum = 0;
  for (let i = 4500; i < samples.length; i++) sum += Math.abs(samples[i]);
  return sum.toString();
}

/** @param {any} env */
function fontData(env) {
  const c = makeCanvas(env, 10, 10);
  const ctx = c.getContext('2d');
  if (!ctx) return undefined;
  const text = 'mmmmmmmmmmlli10OQ@#';
  const bases = ['monospace', 'sans-serif', 'serif'];
  /** @param {string} font */
  const width = (font) => {
    ctx.font = `72px ${font}`;
    return ctx.measureText(text).width;
  };
  const baseWidths = bases.map((b) => width(b));
  const found = FONT_PROBES.filter((f) => bases.some((b, i) => width(`"${f}", ${b}`) !== baseWidths[i]));
  return `fonts:${found.join(',')}`;
}
