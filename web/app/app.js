// The sessiond example app: sign in, see the current user and session, list
// the account's sessions, end one, end all others, sign out. Plain ES module,
// served by the local server at / next to /session-client.js.
import { createSessionClient, createPkce, randomState, SessionError } from '/session-client.js';

const PKCE_KEY = 'sessiond.example.pkce';

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const ui = {
  mode: $('mode'),
  modeNote: $('mode-note'),
  status: $('status'),
  banner: $('signed-out-banner'),
  bannerText: $('signed-out-text'),
  error: $('error'),
  errorText: $('error-text'),
  notice: $('notice'),
  noticeText: $('notice-text'),
  signin: $('signin'),
  devForm: /** @type {HTMLFormElement} */ ($('dev-form')),
  devUser: /** @type {HTMLInputElement} */ ($('dev-user')),
  provider: $('provider'),
  providerOr: $('provider-or'),
  providerButton: /** @type {HTMLButtonElement} */ ($('provider-button')),
  noSignin: $('no-signin'),
  account: $('account'),
  userId: $('user-id'),
  sessionId: $('session-id'),
  expiresIn: $('expires-in'),
  signOut: /** @type {HTMLButtonElement} */ ($('sign-out')),
  signOutEverywhere: /** @type {HTMLButtonElement} */ ($('sign-out-everywhere')),
  sessions: $('sessions'),
  rows: $('session-rows'),
  empty: $('sessions-empty'),
  reload: /** @type {HTMLButtonElement} */ ($('reload-sessions')),
  endOthers: /** @type {HTMLButtonElement} */ ($('end-others')),
};

/** @type {{dev: boolean, cookie_mode: boolean, provider: boolean, authorize_url: string|null}} */
let config;
/** @type {import('/session-client.js').SessionClient} */
let client;
/** The session id the list was last loaded for. */
let listedFor = null;

/** GET /dev/config: present on the local dev server only. */
async function loadConfig() {
  try {
    const res = await fetch('/dev/config', { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const c = await res.json();
    return {
      dev: true,
      cookie_mode: c.cookie_mode === true,
      provider: c.provider === true && typeof c.authorize_url === 'string',
      authorize_url: typeof c.authorize_url === 'string' ? c.authorize_url : null,
    };
  } catch {
    // Not the dev server: cookie mode is the safe default, no dev sign-in.
    return { dev: false, cookie_mode: true, provider: false, authorize_url: null };
  }
}

// ------------------------------------------------------------------ rendering

/** @param {import('/session-client.js').SessionSnapshot} state */
function render(state) {
  const signedIn = state.status === 'signed-in';
  ui.status.textContent =
    state.status === 'unknown' ? 'Checking your session…' : signedIn ? `Signed in as ${state.userId ?? 'an unknown user'}.` : 'You are signed out.';
  ui.signin.hidden = state.status !== 'signed-out';
  ui.account.hidden = !signedIn;
  ui.sessions.hidden = !signedIn;
  if (signedIn) {
    ui.banner.hidden = true;
    ui.userId.textContent = state.userId ?? '—';
    ui.sessionId.textContent = state.sessionId ?? '—';
    tick();
    if (state.sessionId !== listedFor) {
      listedFor = state.sessionId;
      void loadSessions();
    }
  } else {
    listedFor = null;
    ui.rows.replaceChildren();
  }
}

/** Updates the "renews in" countdown (the client's monotonic view). */
function tick() {
  const s = client?.snapshot();
  if (!s || s.status !== 'signed-in' || s.expiresInMs == null) {
    ui.expiresIn.textContent = '—';
    return;
  }
  const secs = Math.round(s.expiresInMs / 1000);
  ui.expiresIn.textContent = secs >= 120 ? `expires in ${Math.round(secs / 60)} min` : `expires in ${secs} s`;
}

/** @param {string} reason @param {boolean} remote */
function showSignedOut(reason, remote) {
  const text = {
    invalid_grant: 'Your session has ended: it was ended from another device, revoked, or it expired. Please sign in again.',
    logout: remote ? 'You signed out in another tab.' : 'You are signed out.',
    no_refresh_token: 'Your session could not be renewed. Please sign in again.',
  }[reason] ?? 'You are signed out.';
  ui.bannerText.textContent = text;
  ui.banner.dataset.reason = reason;
  ui.banner.hidden = false;
}

/** @param {unknown} err @param {string} [what] */
function showError(err, what) {
  if (err instanceof SessionError && err.code === 'signed_out') return; // the banner says it
  const e = /** @type {any} */ (err);
  const detail = err instanceof SessionError ? describe(err) : String(e?.message ?? err);
  ui.errorText.textContent = what ? `${what}: ${detail}` : detail;
  ui.error.hidden = false;
}

/** @param {SessionError} e */
function describe(e) {
  switch (e.code) {
    case 'network':
      return 'the server could not be reached. Check your connection; the app keeps trying.';
    case 'unavailable':
      return 'the service is temporarily unavailable. The app will try again shortly.';
    case 'rate_limited':
      return 'too many attempts; please wait a moment.';
    case 'forbidden':
      return 'the request was refused (origin or CSRF check).';
    case 'unauthorized':
      return 'not authorised.';
    case 'not_found':
      return 'that session no longer exists.';
    default:
      return e.message.replace(/^session-client: /, '');
  }
}

/** @param {string} text */
function notify(text) {
  ui.noticeText.textContent = text;
  ui.notice.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => {
    ui.notice.hidden = true;
  }, 5000);
}
/** @type {any} */
notify.timer = 0;

function clearMessages() {
  ui.error.hidden = true;
  ui.notice.hidden = true;
}

// ----------------------------------------------------------------- sessions

async function loadSessions() {
  ui.reload.setAttribute('aria-busy', 'true');
  try {
    const sessions = await client.listSessions();
    renderSessions(sessions);
  } catch (err) {
    showError(err, 'Could not load your sessions');
  } finally {
    ui.reload.removeAttribute('aria-busy');
  }
}

/** @param {Array<any>} sessions */
function renderSessions(sessions) {
  const mine = client.snapshot().sessionId;
  const isCurrent = (/** @type {any} */ s) => s.current === true || s.session_id === mine;
  const sorted = [...sessions].sort(
    (a, b) => Number(isCurrent(b)) - Number(isCurrent(a)) || String(b.last_active_at).localeCompare(String(a.last_active_at)),
  );
  ui.rows.replaceChildren(...sorted.map((s) => sessionRow(s, isCurrent(s))));
  ui.empty.hidden = sorted.length > 0;
  ui.endOthers.disabled = !sorted.some((s) => !isCurrent(s));
}

/** @param {any} s @param {boolean} current */
function sessionRow(s, current) {
  const tr = document.createElement('tr');
  tr.dataset.testid = 'session-row';
  tr.dataset.sessionId = String(s.session_id);
  tr.dataset.current = String(current);
  if (current) tr.classList.add('current');

  const label = deviceLabel(s.device);
  const device = cell(tr);
  const name = document.createElement('span');
  name.className = 'device-name';
  name.dataset.testid = 'session-device';
  name.textContent = label;
  device.append(name);
  if (current) {
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.dataset.testid = 'this-device';
    badge.textContent = 'This device';
    device.append(' ', badge);
  }
  const extra = [s.device?.device_type, s.state && s.state !== 'active' ? s.state : null].filter(Boolean).join(' · ');
  if (extra) {
    const small = document.createElement('span');
    small.className = 'device-extra';
    small.textContent = extra;
    device.append(small);
  }

  const ip = cell(tr);
  ip.dataset.testid = 'session-ip';
  ip.textContent = s.ip || '—';

  const last = cell(tr);
  last.dataset.testid = 'session-last-active';
  last.append(timeElement(s.last_active_at));

  cell(tr).append(timeElement(s.created_at));

  const action = cell(tr);
  action.className = 'action';
  const button = document.createElement('button');
  button.type = 'button';
  button.dataset.testid = 'end-session';
  button.dataset.sessionId = String(s.session_id);
  if (current) {
    button.textContent = 'Sign out';
    button.setAttribute('aria-label', `Sign out of this session (${label})`);
  } else {
    button.textContent = 'End';
    button.className = 'danger';
    button.setAttribute('aria-label', `End the session on ${label}`);
  }
  button.addEventListener('click', () =>
    busy(button, async () => {
      await client.endSession(String(s.session_id));
      if (!current) {
        notify(`Ended the session on ${label}.`);
        await loadSessions();
      }
    }, 'Could not end the session'),
  );
  action.append(button);
  return tr;
}

/** @param {HTMLTableRowElement} tr */
function cell(tr) {
  const td = document.createElement('td');
  tr.append(td);
  return td;
}

/** @param {any} d */
function deviceLabel(d) {
  if (!d || typeof d !== 'object') return 'Unknown device';
  const major = typeof d.browser_version === 'string' ? d.browser_version.split('.')[0] : '';
  const browser = [d.browser, major].filter(Boolean).join(' ');
  const os = [d.os, d.os_version].filter(Boolean).join(' ');
  if (browser && os) return `${browser} on ${os}`;
  return browser || os || (d.device_model ? String(d.device_model) : 'Unknown device');
}

/** @param {unknown} iso */
function timeElement(iso) {
  const el = document.createElement('time');
  const t = typeof iso === 'string' ? Date.parse(iso) : NaN;
  if (Number.isNaN(t)) {
    el.textContent = '—';
    return el;
  }
  el.dateTime = /** @type {string} */ (iso);
  el.title = new Date(t).toLocaleString();
  el.textContent = relative(t);
  return el;
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
/** @param {number} t epoch ms (display only) */
function relative(t) {
  const secs = Math.round((t - Date.now()) / 1000);
  const abs = Math.abs(secs);
  if (abs < 45) return 'just now';
  if (abs < 3600) return rtf.format(Math.round(secs / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(secs / 3600), 'hour');
  return rtf.format(Math.round(secs / 86400), 'day');
}

// ------------------------------------------------------------------ actions

/**
 * busy runs an action with its button disabled and reports failures.
 * @param {HTMLButtonElement} button @param {() => Promise<void>} fn @param {string} what
 */
async function busy(button, fn, what) {
  clearMessages();
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    await fn();
  } catch (err) {
    showError(err, what);
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

async function startProviderSignIn() {
  if (!config.authorize_url) return;
  const url = new URL(config.authorize_url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('the provider URL is not http(s)');
  const { verifier, challenge } = await createPkce();
  const state = randomState();
  const redirectUri = url.searchParams.get('redirect_uri') ?? `${location.origin}/`;
  url.searchParams.set('redirect_uri', redirectUri);
  if (!url.searchParams.has('response_type')) url.searchParams.set('response_type', 'code');
  if (!url.searchParams.has('scope')) url.searchParams.set('scope', 'openid');
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, redirectUri }));
  location.assign(url.href);
}

/** @param {URLSearchParams} params */
async function finishProviderSignIn(params) {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? 'null');
  } catch {
    saved = null;
  }
  sessionStorage.removeItem(PKCE_KEY);
  // The code is single-use and must not stay in the address bar or history.
  history.replaceState(null, '', location.pathname);
  if (params.has('error')) {
    showError(new Error(params.get('error_description') || params.get('error') || 'unknown error'), 'The provider refused the sign-in');
    return client.restore();
  }
  if (!saved || typeof saved.verifier !== 'string' || saved.state !== params.get('state')) {
    showError(new Error('the answer does not match a sign-in started in this tab'), 'Sign-in failed');
    return client.restore();
  }
  return client.signInWithCode({ code: String(params.get('code')), codeVerifier: saved.verifier, redirectUri: saved.redirectUri });
}

function wire() {
  ui.devForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const user = ui.devUser.value.trim();
    if (!user) return ui.devUser.focus();
    const button = /** @type {HTMLButtonElement} */ (ui.devForm.querySelector('button[type=submit]'));
    void busy(button, async () => {
      await client.signInVia('/dev/sign-in', { user_id: user });
    }, 'Dev sign-in failed');
  });
  ui.providerButton.addEventListener('click', () => busy(ui.providerButton, startProviderSignIn, 'Could not start the sign-in'));
  ui.signOut.addEventListener('click', () =>
    busy(ui.signOut, async () => {
      const r = await client.logout();
      if (r.error) showError(r.error, 'Signed out here, but the server did not confirm it');
    }, 'Sign-out failed'),
  );
  ui.signOutEverywhere.addEventListener('click', () =>
    busy(ui.signOutEverywhere, async () => {
      const r = await client.logoutEverywhere();
      if (r.failed.length) showError(new Error(`${r.failed.length} session(s) could not be ended`), 'Sign out everywhere');
    }, 'Sign out everywhere failed'),
  );
  ui.reload.addEventListener('click', () => busy(ui.reload, loadSessions, 'Could not load your sessions'));
  ui.endOthers.addEventListener('click', () =>
    busy(ui.endOthers, async () => {
      const r = await client.endOtherSessions();
      notify(r.ended === 1 ? 'Ended 1 other session.' : `Ended ${r.ended} other sessions.`);
      if (r.failed.length) showError(new Error(`${r.failed.length} session(s) could not be ended`), 'End all other sessions');
      await loadSessions();
    }, 'Could not end the other sessions'),
  );
  $('dismiss-banner').addEventListener('click', () => {
    ui.banner.hidden = true;
  });
  $('dismiss-error').addEventListener('click', () => {
    ui.error.hidden = true;
  });
  // Coming back to the tab: look again (and learn if this session was ended elsewhere).
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && client.snapshot().status === 'signed-in') void loadSessions();
  });
}

async function main() {
  config = await loadConfig();
  const mode = config.cookie_mode ? 'cookie' : 'token';
  client = createSessionClient({ baseUrl: location.origin, mode, onChange: render });
  // For the browser tests and the console. An example app only: a real app
  // need not expose its client (it holds no secret a same-origin script
  // could not get anyway).
  /** @type {any} */ (window).sessiondApp = { client, config };

  ui.mode.textContent = mode === 'cookie' ? 'Cookie mode' : 'Token mode';
  ui.mode.dataset.mode = mode;
  ui.mode.hidden = false;
  ui.modeNote.textContent =
    mode === 'cookie'
      ? 'The refresh token is in an HttpOnly cookie that scripts cannot read; a reload keeps you signed in.'
      : 'The refresh token is kept in memory only: a reload signs you out unless another tab of this app is open.';
  ui.devForm.hidden = !config.dev;
  ui.provider.hidden = !config.provider;
  ui.providerOr.hidden = !(config.dev && config.provider);
  ui.noSignin.hidden = config.dev || config.provider;

  client.on('signed-out', ({ reason, remote }) => showSignedOut(reason, remote));
  client.on('error', (err) => showError(err, 'Session renewal failed'));
  wire();
  render(client.snapshot());

  const params = new URLSearchParams(location.search);
  try {
    if (params.has('code') || params.has('error')) await finishProviderSignIn(params);
    else await client.restore();
  } catch (err) {
    showError(err, 'Could not restore your session');
  }
  render(client.snapshot());
  setInterval(tick, 1000);
}

main().catch((err) => showError(err, 'The app failed to start'));
