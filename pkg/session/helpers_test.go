package session

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/kv/embedded"
	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
	"github.com/sessionkit/sessiond/pkg/seal"
	"github.com/sessionkit/sessiond/pkg/token"
)

// clock is a settable clock for tests; safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Millisecond)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	testKeyOnce sync.Once
	testKey     ed25519.PrivateKey
	testMaster  []byte
)

// testConfig returns a Config with fresh-per-process keys, the clock, a
// unique key prefix, and rate limits off unless the test turns them on.
func testConfig(t testing.TB, clk *clock) Config {
	t.Helper()
	testKeyOnce.Do(func() {
		_, testKey, _ = ed25519.GenerateKey(rand.Reader)
		testMaster = make([]byte, 32)
		_, _ = rand.Read(testMaster)
	})
	signer, err := token.NewSigner(testKey, "http://localhost:3000", "sessions", 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := token.NewVerifier("http://localhost:3000", "sessions",
		[]ed25519.PublicKey{testKey.Public().(ed25519.PublicKey)}, token.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(testMaster)
	if err != nil {
		t.Fatal(err)
	}
	off := 0.0
	return Config{
		Signer: signer, Verifier: verifier, RefreshKeys: token.NewRefreshKeys(testMaster), Sealer: sealer,
		KeyPrefix: kvtest.Prefix(t), Now: clk.Now, RateLimitScale: &off, Rand: func() float64 { return 0.5 },
	}
}

// env is one Manager over one transport.
type env struct {
	*Manager
	tr  kvtest.Named
	clk *clock
	ctx context.Context
}

// eachStore runs fn on every transport (embedded, REST front, and real
// Redis when REDIS_URL is set), with a Manager configured by cfg.
func eachStore(t *testing.T, cfg func(*Config), fn func(t *testing.T, e *env)) {
	t.Helper()
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		clk := newClock()
		c := testConfig(t, clk)
		if cfg != nil {
			cfg(&c)
		}
		m, err := New(tr.Client, c)
		if err != nil {
			t.Fatal(err)
		}
		fn(t, &env{Manager: m, tr: tr, clk: clk, ctx: context.Background()})
	})
}

// newEnv is one Manager on the embedded store only.
func newEnv(t testing.TB, cfg func(*Config)) *env {
	t.Helper()
	store, err := embedded.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	clk := newClock()
	c := testConfig(t, clk)
	if cfg != nil {
		cfg(&c)
	}
	m, err := New(store, c)
	if err != nil {
		t.Fatal(err)
	}
	return &env{Manager: m, tr: kvtest.Named{Name: kvtest.Embedded, Client: store, Mini: store.Server()}, clk: clk, ctx: context.Background()}
}

var (
	chromeUA  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
	firefoxUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
)

func client(ip, ua string) Client {
	return Client{IP: netip.MustParseAddr(ip), UserAgent: ua}
}

func (e *env) create(t testing.TB, uid string) *Issued {
	t.Helper()
	is, err := e.Create(e.ctx, CreateRequest{UserID: uid, Client: client("203.0.113.7", chromeUA), Device: laptop()})
	if err != nil {
		t.Fatalf("Create(%s): %v", uid, err)
	}
	return is
}

func (e *env) refresh(rt string) (*Issued, error) {
	return e.Refresh(e.ctx, RefreshRequest{RefreshToken: rt, Client: client("203.0.113.7", chromeUA), Device: laptop()})
}

func (e *env) active(t testing.TB, tok string) bool {
	t.Helper()
	in, err := e.Introspect(e.ctx, tok, IntrospectRequest{Caller: "rs1"})
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	return in.Active
}

func (e *env) state(t testing.TB, sid string) State {
	t.Helper()
	v, err := e.tr.Client.Do(e.ctx, "HGET", e.cfg.KeyPrefix+"s:"+sid, "st")
	if err != nil {
		return ""
	}
	s, _ := v.(string)
	return State(s)
}

func (e *env) actions(t testing.TB, sid string) []string {
	t.Helper()
	p, err := e.Audit(e.ctx, AuditQuery{SessionID: sid, Limit: 500})
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	out := make([]string, 0, len(p.Events))
	for i := len(p.Events) - 1; i >= 0; i-- {
		out = append(out, p.Events[i].Action)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func laptop() *Device {
	return &Device{UserAgent: chromeUA, Platform: "MacIntel", OS: "macOS", OSVersion: "14.0", Browser: "Chrome",
		BrowserVersion: "126", DeviceType: "desktop", Language: "en-US", Languages: []string{"en-US", "en"},
		Timezone: "Europe/Paris", TimezoneOffset: ptr(-60), ScreenWidth: ptr(1512), ScreenHeight: ptr(982),
		ColorDepth: ptr(30), PixelRatio: ptr(2.0), HardwareConcurrency: ptr(10), DeviceMemory: ptr(8.0),
		TouchPoints: ptr(0), CookiesEnabled: ptr(true), WebGLVendor: "Apple", WebGLRenderer: "Apple M2",
		CanvasHash: "c4a1", AudioHash: "a9f0", FontsHash: "f00d"}
}

func phone() *Device {
	return &Device{UserAgent: firefoxUA, Platform: "Win32", OS: "Windows", OSVersion: "10", Browser: "Firefox",
		BrowserVersion: "128", DeviceType: "desktop", Language: "ru-RU", Languages: []string{"ru-RU"},
		Timezone: "Asia/Novosibirsk", TimezoneOffset: ptr(-420), ScreenWidth: ptr(1920), ScreenHeight: ptr(1080),
		ColorDepth: ptr(24), PixelRatio: ptr(1.0), HardwareConcurrency: ptr(4), DeviceMemory: ptr(4.0),
		TouchPoints: ptr(0), CookiesEnabled: ptr(true), WebGLVendor: "NVIDIA", WebGLRenderer: "GTX 1060",
		CanvasHash: "9999", AudioHash: "8888", FontsHash: "7777"}
}
