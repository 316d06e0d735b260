package upstream

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"
)

const testRedirect = "https://app.example.test/callback"

// fakeClock is an injected clock whose Sleep records the delay and moves
// time forward instead of waiting, so retry tests take no real time.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// counter counts requests per path of a mockoidc server. It only observes.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		if c.n == nil {
			c.n = map[string]int{}
		}
		c.n[r.URL.Path]++
		c.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (c *counter) get(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

// startMockOIDC runs a real mockoidc server on 127.0.0.1 with a request
// counter (and any extra middleware) in front, shut down with the test.
func startMockOIDC(t *testing.T, mws ...func(http.Handler) http.Handler) (*mockoidc.MockOIDC, *counter) {
	t.Helper()
	m, err := mockoidc.NewServer(nil) // the package's default RSA key: no slow key generation
	if err != nil {
		t.Fatal(err)
	}
	cnt := &counter{}
	if err := m.AddMiddleware(cnt.middleware); err != nil {
		t.Fatal(err)
	}
	for _, mw := range mws {
		if err := m.AddMiddleware(mw); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m, cnt
}

// newTestProvider builds a Provider for mockoidc m with a fake clock.
// mockoidc lists client_secret_basic but reads the credentials from the
// form only, hence AuthMethodPost.
func newTestProvider(t *testing.T, m *mockoidc.MockOIDC, clk *fakeClock, mutate ...func(*Config)) *Provider {
	t.Helper()
	cfg := Config{
		Issuer:       m.Issuer(),
		ClientID:     m.ClientID,
		ClientSecret: m.ClientSecret,
		RedirectURIs: []string{testRedirect},
		AuthMethod:   AuthMethodPost,
		Now:          clk.Now,
		Sleep:        clk.Sleep,
	}
	for _, f := range mutate {
		f(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// authorize drives an authorization endpoint the way a browser would and
// returns the code from the redirect. extra adds or overrides parameters.
func authorize(t *testing.T, endpoint, clientID, verifier string, extra url.Values) string {
	t.Helper()
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {testRedirect},
		"scope":                 {"openid email profile"},
		"state":                 {"st-" + oauth2.GenerateVerifier()[:8]},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get(endpoint + "?" + q.Encode())
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: HTTP %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), testRedirect) {
		t.Fatalf("redirected to %q", loc)
	}
	code := loc.Query().Get("code")
	if code == "" || loc.Query().Get("state") != q.Get("state") {
		t.Fatalf("redirect %q lacks code or state", loc)
	}
	return code
}

// closedPortURL returns an http URL on 127.0.0.1 where nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// assertNoSecret fails if err's text contains any of the secrets.
func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error text %q contains a secret", err)
		}
	}
}
