package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"
)

func TestBackoffCap(t *testing.T) {
	t.Parallel()
	pol := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for n, want := range map[int]time.Duration{
		1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond,
		4: 800 * time.Millisecond, 5: time.Second, 60: time.Second,
	} {
		if got := backoffCap(pol, n); got != want {
			t.Errorf("backoffCap(%d) = %v, want %v", n, got, want)
		}
		for range 50 {
			if d := backoff(pol, n); d < 0 || d > want {
				t.Fatalf("backoff(%d) = %v outside [0, %v]", n, d, want)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-3", 0},
		{"7", 7 * time.Second},
		{" 2 ", 2 * time.Second},
		{"999999999999", maxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// retryProvider is a Provider used only for its retry loop.
func retryProvider(t *testing.T, clk *fakeClock, pol RetryPolicy) *Provider {
	t.Helper()
	p, err := New(Config{Issuer: "https://op.example.test", ClientID: "c", Retry: pol, Now: clk.Now, Sleep: clk.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRetriesAreBounded(t *testing.T) {
	t.Parallel()
	failing := func(n *int, te *transientError) func(context.Context) error {
		return func(context.Context) error { *n++; return te }
	}

	t.Run("by attempts", func(t *testing.T) {
		clk := newFakeClock()
		pol := RetryPolicy{MaxAttempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: 400 * time.Millisecond, Budget: time.Minute}
		p := retryProvider(t, clk, pol)
		attempts := 0
		err := p.withRetries(context.Background(), "test", failing(&attempts, &transientError{reason: "HTTP 503"}))
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("got %v", err)
		}
		if attempts != 5 {
			t.Fatalf("%d attempts, want 5", attempts)
		}
		sleeps := clk.Sleeps()
		if len(sleeps) != 4 {
			t.Fatalf("slept %v, want 4 backoffs", sleeps)
		}
		var total time.Duration
		for i, d := range sleeps {
			if d < 0 || d > backoffCap(pol, i+1) {
				t.Fatalf("backoff %d = %v above its cap %v", i+1, d, backoffCap(pol, i+1))
			}
			total += d
		}
		if total > 100*time.Millisecond+200*time.Millisecond+400*time.Millisecond+400*time.Millisecond {
			t.Fatalf("total backoff %v above the sum of caps", total)
		}
		if RetryAfter(err) < time.Second {
			t.Fatalf("RetryAfter = %v, want at least 1s", RetryAfter(err))
		}
	})

	t.Run("by budget", func(t *testing.T) {
		clk := newFakeClock()
		pol := RetryPolicy{MaxAttempts: 1000, BaseDelay: time.Second, MaxDelay: time.Second, Budget: 3 * time.Second}
		p := retryProvider(t, clk, pol)
		start := clk.Now()
		attempts := 0
		err := p.withRetries(context.Background(), "test", failing(&attempts, &transientError{reason: "HTTP 502", retryAfter: time.Second}))
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("got %v", err)
		}
		if elapsed := clk.Now().Sub(start); elapsed > pol.Budget {
			t.Fatalf("waited %v, over the %v budget", elapsed, pol.Budget)
		}
		if attempts != 4 { // at 0s, 1s, 2s, 3s; the wait after the 4th would end past 3s
			t.Fatalf("%d attempts, want 4", attempts)
		}
	})

	t.Run("Retry-After is honoured", func(t *testing.T) {
		clk := newFakeClock()
		p := retryProvider(t, clk, RetryPolicy{MaxAttempts: 2, BaseDelay: 10 * time.Millisecond, MaxDelay: 20 * time.Millisecond, Budget: time.Minute})
		attempts := 0
		err := p.withRetries(context.Background(), "test", func(context.Context) error {
			attempts++
			if attempts == 1 {
				return &transientError{reason: "HTTP 429", retryAfter: 3 * time.Second}
			}
			return nil
		})
		if err != nil || attempts != 2 {
			t.Fatalf("err %v after %d attempts", err, attempts)
		}
		if s := clk.Sleeps(); len(s) != 1 || s[0] != 3*time.Second {
			t.Fatalf("slept %v, want exactly the 3s Retry-After", s)
		}
	})

	t.Run("Retry-After beyond the budget gives up at once and passes it on", func(t *testing.T) {
		clk := newFakeClock()
		p := retryProvider(t, clk, RetryPolicy{MaxAttempts: 3, Budget: 5 * time.Second})
		attempts := 0
		err := p.withRetries(context.Background(), "test", failing(&attempts, &transientError{reason: "HTTP 429", retryAfter: 30 * time.Second}))
		if !errors.Is(err, ErrUnavailable) || attempts != 1 || len(clk.Sleeps()) != 0 {
			t.Fatalf("err %v, %d attempts, slept %v", err, attempts, clk.Sleeps())
		}
		if RetryAfter(err) != 30*time.Second {
			t.Fatalf("RetryAfter = %v, want the provider's 30s", RetryAfter(err))
		}
	})

	t.Run("final errors are not retried", func(t *testing.T) {
		clk := newFakeClock()
		p := retryProvider(t, clk, RetryPolicy{MaxAttempts: 5})
		for _, final := range []error{ErrInvalidGrant, ErrRejected, unavailable(0, "garbage answer")} {
			attempts := 0
			err := p.withRetries(context.Background(), "test", func(context.Context) error { attempts++; return final })
			if !errors.Is(err, final) || attempts != 1 {
				t.Fatalf("%v: got %v after %d attempts", final, err, attempts)
			}
		}
	})

	t.Run("a cancelled context stops the retries", func(t *testing.T) {
		clk := newFakeClock()
		p := retryProvider(t, clk, RetryPolicy{MaxAttempts: 5})
		ctx, cancel := context.WithCancel(context.Background())
		attempts := 0
		err := p.withRetries(ctx, "test", func(context.Context) error { attempts++; cancel(); return &transientError{reason: "timeout"} })
		if !errors.Is(err, ErrUnavailable) || attempts != 1 {
			t.Fatalf("got %v after %d attempts", err, attempts)
		}
	})
}

// TestTokenCallHonours429 puts an httptest reverse proxy in front of
// mockoidc, because mockoidc cannot answer 429 with a Retry-After header:
// the first token request gets 429 + Retry-After: 2, every other request is
// passed through untouched to the real mockoidc.
func TestTokenCallHonours429(t *testing.T) {
	t.Parallel()
	m, _ := startMockOIDC(t)
	target, _ := url.Parse(m.Addr())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var tokenCalls atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == mockoidc.TokenEndpoint && tokenCalls.Add(1) == 1 {
			w.Header().Set("Retry-After", "2")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":"slow_down"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	clk := newFakeClock()
	p := newTestProvider(t, m, clk)
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	// mockoidc's discovery document names its own address, so the
	// provider's HTTP client routes every request for that address through
	// the proxy (the browser-side authorize call goes to mockoidc directly).
	p.cfg.HTTPClient = &http.Client{Transport: rewriteHost(front.URL, m.Addr())}
	code := authorize(t, m.AuthorizationEndpoint(), m.ClientID, verifier, nil)
	toks, _, err := p.Exchange(ctx, code, verifier, testRedirect)
	if err != nil {
		t.Fatalf("Exchange through a 429: %v", err)
	}
	if toks.AccessToken == "" || tokenCalls.Load() != 2 {
		t.Fatalf("token calls = %d, want 2", tokenCalls.Load())
	}
	if s := clk.Sleeps(); len(s) != 1 || s[0] < 2*time.Second {
		t.Fatalf("slept %v, want one wait of at least the 2s Retry-After", s)
	}
}

// rewriteHost sends requests for the server at from to the server at to.
type hostRewriter struct{ from, to *url.URL }

func rewriteHost(to, from string) http.RoundTripper {
	f, _ := url.Parse(from)
	tt, _ := url.Parse(to)
	return &hostRewriter{from: f, to: tt}
}

func (h *hostRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == h.from.Host {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = h.to.Scheme, h.to.Host
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestClassifyTokenErrorHidesBody(t *testing.T) {
	t.Parallel()
	resp := &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{}}
	for _, tc := range []struct {
		re   *oauth2.RetrieveError
		want error
	}{
		{&oauth2.RetrieveError{Response: resp, Body: []byte(`{"error":"invalid_grant","error_description":"code SECRET-CODE used"}`), ErrorCode: "invalid_grant", ErrorDescription: "code SECRET-CODE used"}, ErrInvalidGrant},
		{&oauth2.RetrieveError{Response: resp, Body: []byte(`{"error":"invalid_client","error_description":"secret SECRET-CODE wrong"}`), ErrorCode: "invalid_client", ErrorDescription: "secret SECRET-CODE wrong"}, ErrRejected},
		{&oauth2.RetrieveError{Response: resp, Body: []byte(`SECRET-CODE`), ErrorCode: "SECRET-CODE\"with quote"}, ErrRejected},
	} {
		err := classifyTokenError(tc.re, time.Now())
		if !errors.Is(err, tc.want) {
			t.Fatalf("classify(%s) = %v, want %v", tc.re.ErrorCode, err, tc.want)
		}
		if strings.Contains(err.Error(), "SECRET-CODE") {
			t.Fatalf("error %q leaks the provider's answer", err)
		}
	}
	r503 := &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {"4"}}}
	var te *transientError
	if err := classifyTokenError(&oauth2.RetrieveError{Response: r503}, time.Now()); !errors.As(err, &te) || te.retryAfter != 4*time.Second {
		t.Fatalf("503 not transient with Retry-After: %v", err)
	}
}
