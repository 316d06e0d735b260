// collectDevice and parseUserAgent: SPEC field names and JSON types, and no
// throw in odd environments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import { collectDevice, parseUserAgent } from '../session-client.js';

const UAS = {
  chromeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Safari/537.36',
  safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  edgeMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67',
  samsungAndroid: 'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
  chromeAndroidTablet: 'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  headless: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.33 Safari/537.36',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  chromeOS: 'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
};

test('parseUserAgent: common browsers, systems and device types', () => {
  const cases = [
    ['chromeWindows', 0, { browser: 'Chrome', browser_version: '124.0.6367.91', os: 'Windows', os_version: '10', device_type: 'desktop' }],
    ['safariIphone', 5, { browser: 'Safari', browser_version: '17.4.1', os: 'iOS', os_version: '17.4.1', device_type: 'mobile', device_vendor: 'Apple' }],
    ['firefoxLinux', 0, { browser: 'Firefox', browser_version: '125.0', os: 'Linux', device_type: 'desktop' }],
    ['edgeMac', 0, { browser: 'Edge', browser_version: '124.0.2478.67', os: 'macOS', os_version: '10.15.7', device_type: 'desktop', device_vendor: 'Apple' }],
    ['samsungAndroid', 5, { browser: 'Samsung Internet', browser_version: '24.0', os: 'Android', os_version: '14', device_type: 'mobile' }],
    ['chromeAndroidTablet', 5, { browser: 'Chrome', browser_version: '124.0.0.0', os: 'Android', os_version: '13', device_type: 'tablet' }],
    ['headless', 0, { browser: 'Chrome Headless', browser_version: '131.0.6778.33', os: 'Linux', device_type: 'desktop' }],
    ['safariMac', 0, { browser: 'Safari', browser_version: '17.4', os: 'macOS', os_version: '10.15.7', device_type: 'desktop', device_vendor: 'Apple' }],
    // iPadOS in desktop mode sends a Mac UA; touch points give it away.
    ['safariMac', 5, { browser: 'Safari', browser_version: '17.4', os: 'iPadOS', device_type: 'tablet', device_vendor: 'Apple' }],
    ['chromeOS', 0, { browser: 'Chrome', browser_version: '124.0.0.0', os: 'ChromeOS', device_type: 'desktop' }],
  ];
  for (const [name, touch, want] of cases) assert.deepEqual(parseUserAgent(UAS[name], touch), want, name);
  assert.deepEqual(parseUserAgent(''), {});
  assert.deepEqual(parseUserAgent(undefined), {});
  assert.deepEqual(parseUserAgent('curl/8.0'), {});
});

/** A browser-like environment with deterministic canvas and audio. */
function fakeEnv(overrides = {}) {
  const ctx2d = {
    font: '',
    fillRect() {}, fillText() {}, beginPath() {}, arc() {}, fill() {},
    measureText(text) {
      // "Arial" and "DejaVu Sans" are installed: they change the width.
      const installed = /"(Arial|DejaVu Sans)"/.test(this.font);
      return { width: text.length * (installed ? 11 : 10) };
    },
  };
  const gl = {
    VENDOR: 1, RENDERER: 2,
    getExtension: (name) => (name === 'WEBGL_debug_renderer_info' ? { UNMASKED_VENDOR_WEBGL: 0x9245, UNMASKED_RENDERER_WEBGL: 0x9246 } : { loseContext() {} }),
    getParameter: (p) => ({ 0x9245: 'Google Inc. (Intel)', 0x9246: 'ANGLE (Intel, Mesa Intel(R) UHD)', 1: 'WebKit', 2: 'WebKit WebGL' })[p],
  };
  class FakeOfflineAudioContext {
    constructor(channels, length) {
      this.length = length;
      this.destination = {};
    }
    createOscillator() {
      return { type: '', frequency: { value: 0 }, connect() {}, start() {} };
    }
    createDynamicsCompressor() {
      const p = () => ({ value: 0 });
      return { threshold: p(), knee: p(), ratio: p(), attack: p(), release: p(), connect() {} };
    }
    async startRendering() {
      const data = Float32Array.from({ length: this.length }, (_, i) => Math.sin(i) / 3);
      return { getChannelData: () => data };
    }
  }
  return {
    navigator: {
      userAgent: UAS.chromeWindows,
      platform: 'Win32',
      language: 'de-CH',
      languages: ['de-CH', 'de', 'en'],
      hardwareConcurrency: 8,
      deviceMemory: 8,
      maxTouchPoints: 0,
      cookieEnabled: true,
      doNotTrack: '1',
      userAgentData: { platform: 'Windows', getHighEntropyValues: async () => ({ platformVersion: '15.0.0', model: '' }) },
    },
    screen: { width: 2560, height: 1440, colorDepth: 24 },
    devicePixelRatio: 1.5,
    Intl: { DateTimeFormat: () => ({ resolvedOptions: () => ({ timeZone: 'Europe/Zurich' }) }) },
    Date: class {
      getTimezoneOffset() {
        return -120;
      }
    },
    document: {
      createElement: () => ({
        getContext: (kind) => (kind === '2d' ? ctx2d : kind === 'webgl' ? gl : null),
        toDataURL: () => 'data:image/png;base64,ZmFrZS1jYW52YXM=',
      }),
    },
    OfflineAudioContext: FakeOfflineAudioContext,
    crypto: webcrypto,
    ...overrides,
  };
}

const sha = (s) => createHash('sha256').update(s).digest('hex');

test('collectDevice: every field with its SPEC name and JSON type', async () => {
  const d = await collectDevice({ env: fakeEnv() });
  const audioSum = (() => {
    let sum = 0;
    const data = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i) / 3);
    for (let i = 4500; i < 5000; i++) sum += Math.abs(data[i]);
    return sum.toString();
  })();
  assert.deepEqual(d, {
    user_agent: UAS.chromeWindows,
    platform: 'Win32',
    os: 'Windows',
    os_version: '11', // from the UA Client Hints platformVersion 15
    browser: 'Chrome',
    browser_version: '124.0.6367.91',
    device_type: 'desktop',
    language: 'de-CH',
    languages: ['de-CH', 'de', 'en'],
    timezone: 'Europe/Zurich',
    timezone_offset: 120, // minutes east of UTC
    screen_width: 2560,
    screen_height: 1440,
    color_depth: 24,
    pixel_ratio: 1.5,
    hardware_concurrency: 8,
    device_memory: 8,
    touch_points: 0,
    cookies_enabled: true,
    do_not_track: true,
    webgl_vendor: 'Google Inc. (Intel)',
    webgl_renderer: 'ANGLE (Intel, Mesa Intel(R) UHD)',
    canvas_hash: sha('data:image/png;base64,ZmFrZS1jYW52YXM='),
    audio_hash: sha(audioSum),
    fonts_hash: sha('fonts:Arial,DejaVu Sans'),
  });
  // Types as sessiond decodes them: integers where it wants *int.
  for (const k of ['timezone_offset', 'screen_width', 'screen_height', 'color_depth', 'hardware_concurrency', 'touch_points']) {
    assert.ok(Number.isInteger(d[k]), k);
  }
  assert.equal(JSON.parse(JSON.stringify(d)).cookies_enabled, true);
});

test('collectDevice: skip leaves fields out', async () => {
  const d = await collectDevice({ env: fakeEnv(), skip: ['canvas_hash', 'audio_hash', 'fonts_hash', 'webgl_vendor', 'webgl_renderer', 'user_agent'] });
  for (const k of ['canvas_hash', 'audio_hash', 'fonts_hash', 'webgl_vendor', 'webgl_renderer', 'user_agent']) assert.equal(k in d, false, k);
  assert.equal(d.browser, 'Chrome');
});

test('collectDevice: wrong-typed or absurd values are dropped or coerced, never sent as is', async () => {
  const env = fakeEnv({
    screen: { width: 1366.4, height: '768', colorDepth: NaN },
    devicePixelRatio: Infinity,
  });
  env.navigator = {
    ...env.navigator,
    userAgent: `${UAS.firefoxLinux} ${'x'.repeat(600)}`,
    languages: ['en', 42, '', 'y'.repeat(80), ...Array.from({ length: 40 }, (_, i) => `l${i}`)],
    cookieEnabled: 'yes',
    doNotTrack: 'unspecified',
    hardwareConcurrency: undefined,
    deviceMemory: -1,
  };
  const d = await collectDevice({ env });
  assert.equal(d.screen_width, 1366);
  assert.equal('screen_height' in d, false);
  assert.equal('color_depth' in d, false);
  assert.equal('pixel_ratio' in d, false);
  assert.equal('hardware_concurrency' in d, false);
  assert.equal('device_memory' in d, false);
  assert.equal('cookies_enabled' in d, false);
  assert.equal('do_not_track' in d, false);
  assert.equal(new TextEncoder().encode(d.user_agent).length, 512, 'strings are cut to sessiond\'s 512-byte limit');
  assert.equal(d.languages.length, 32);
  assert.deepEqual(d.languages.slice(0, 3), ['en', 'l0', 'l1']);
});

test('collectDevice never throws: getters that throw, missing APIs, a hanging audio context', async () => {
  const thrower = new Proxy({}, { get() { throw new Error('nope'); } });
  const d1 = await collectDevice({ env: thrower });
  assert.deepEqual(d1, {});

  const hanging = fakeEnv({
    OfflineAudioContext: class extends fakeEnv().OfflineAudioContext {
      startRendering() {
        return new Promise(() => {});
      }
    },
    crypto: undefined,
    document: { createElement() { throw new Error('no DOM'); } },
  });
  hanging.navigator.userAgentData = { platform: 'Windows', getHighEntropyValues: () => { throw new Error('denied'); } };
  const d2 = await collectDevice({ env: hanging, timeoutMs: 50 });
  assert.equal(d2.browser, 'Chrome');
  assert.equal(d2.os_version, '10', 'no client hints: the UA\'s version');
  for (const k of ['canvas_hash', 'audio_hash', 'fonts_hash', 'webgl_vendor']) assert.equal(k in d2, false, k);

  const d3 = await collectDevice({ env: {} });
  assert.deepEqual(d3, {});
});
