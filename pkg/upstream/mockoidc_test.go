package upstream

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"
)

// These tests run the real flows against mockoidc (github.com/oauth2-proxy/
// mockoidc), an OIDC provider started in-process on 127.0.0.1.

func TestExchangeWithPKCE(t *testing.T) {
	t.Parallel()
	m, cnt := startMockOIDC(t)
	clk := newFakeClock()
	p := newTestProvider(t, m, clk)
	ctx := context.Background()

	m.QueueUser(&mockoidc.MockUser{Subject: "user-42", Email: "ada@example.test", EmailVerified: true, PreferredUsername: "ada"})
	verifier := oauth2.GenerateVerifier()
	code := authorize(t, m.AuthorizationEndpoint(), m.ClientID, verifier, nil)

	toks, id, err := p.Exchange(ctx, code, verifier, testRedirect)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if id.Subject != "user-42" || id.Email != "ada@example.test" || !id.EmailVerified || id.PreferredUsername != "ada" {
		t.Fatalf("identity = %+v", id)
	}
	if id.Issuer != m.Issuer() || id.Expiry.IsZero() {
		t.Fatalf("identity issuer/expiry = %q %v", id.Issuer, id.Expiry)
	}
	if toks.AccessToken == "" || toks.RefreshToken == "" || toks.IDToken == "" {
		t.Fatalf("tokens incomplete: %v", toks)
	}
	// mockoidc's expires_in is a Go duration in nanoseconds (not seconds),
	// which we refuse; the expiry then comes from the access token's exp:
	// AccessTTL (10 minutes) from mockoidc's clock.
	if d := toks.Expiry.Sub(clk.Now()); d < 9*time.Minute || d > 11*time.Minute {
		t.Fatalf("access token expiry in %v, want about %v", d, m.AccessTTL)
	}
	if got := cnt.get(mockoidc.TokenEndpoint); got != 1 {
		t.Fatalf("token endpoint called %d times, want 1", got)
	}

	// Codes are single use: mockoidc answers invalid_grant, never retried.
	_, _, err = p.Exchange(ctx, code, verifier, testRedirect)
	if !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("second Exchange of the same code: %v, want ErrInvalidGrant", err)
	}
	assertNoSecret(t, err, code, verifier, m.ClientSecret)
	if got := cnt.get(mockoidc.TokenEndpoint); got != 2 {
		t.Fatalf("token endpoint called %d times, want 2 (no retry on invalid_grant)", got)
	}
	if len(clk.Sleeps()) != 0 {
		t.Fatalf("slept %v: invalid_grant must not be retried", clk.Sleeps())
	}
}

func TestExchangeRefusals(t *testing.T) {
	t.Parallel()
	m, cnt := startMockOIDC(t)
	clk := newFakeClock()
	p := newTestProvider(t, m, clk)
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()

	t.Run("verifier does not match the challenge", func(t *testing.T) {
		code := authorize(t, m.AuthorizationEndpoint(), m.ClientID, verifier, nil)
		_, _, err := p.Exchange(ctx, code, oauth2.GenerateVerifier(), testRedirect)
		if !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("got %v, want ErrInvalidGrant", err)
		}
		assertNoSecret(t, err, code, verifier)
	})
	t.Run("unknown code", func(t *testing.T) {
		_, _, err := p.Exchange(ctx, "no-such-code", verifier, testRedirect)
		if !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("got %v, want ErrInvalidGrant", err)
		}
		if strings.Contains(err.Error(), "no-such-code") {
			t.Fatalf("error %q repeats the code (mockoidc echoes it in error_description)", err)
		}
	})

	before := cnt.get(mockoidc.TokenEndpoint)
	for _, tc := range []struct {
		name, code, verifier, redirect string
		want                           error
	}{
		{"redirect URI not configured", "c", verifier, "https://evil.example.test/callback", ErrRedirectURI},
		{"redirect URI differs by a slash", "c", verifier, testRedirect + "/", ErrRedirectURI},
		{"empty redirect URI", "c", verifier, "", ErrRedirectURI},
		{"no verifier", "c", "", testRedirect, ErrInvalidGrant},
		{"short verifier", "c", "abc", testRedirect, ErrInvalidGrant},
		{"verifier with bad characters", "c", strings.Repeat("a", 42) + "+", testRedirect, ErrInvalidGrant},
		{"empty code", "", verifier, testRedirect, ErrInvalidGrant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := p.Exchange(ctx, tc.code, tc.verifier, tc.redirect)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if got := cnt.get(mockoidc.TokenEndpoint); got != before {
		t.Fatalf("locally refused exchanges reached the provider (%d calls)", got-before)
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	m, cnt := startMockOIDC(t)
	clk := newFakeClock()
	p := newTestProvider(t, m, clk)
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	toks, _, err := p.Exchange(ctx, authorize(t, m.AuthorizationEndpoint(), m.ClientID, verifier, nil), verifier, testRedirect)
	if err != nil {
		t.Fatal(err)
	}

	next, err := p.Refresh(ctx, toks.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if next.AccessToken == "" || next.Expiry.IsZero() {
		t.Fatalf("refreshed tokens: %v", next)
	}
	// mockoidc does not rotate: it echoes the refresh token presented.
	if next.RefreshToken != toks.RefreshToken || next.PrevRefreshToken != "" || !next.PrevRefreshUntil.IsZero() {
		t.Fatalf("no rotation expected: %v", next)
	}
	if got := cnt.get(mockoidc.TokenEndpoint); got != 2 {
		t.Fatalf("token endpoint called %d times, want 2", got)
	}

	merged, err := p.RefreshTokens(ctx, toks)
	if err != nil {
		t.Fatalf("RefreshTokens: %v", err)
	}
	if merged.RefreshToken != toks.RefreshToken || merged.IDToken == "" || merged.AccessToken == "" {
		t.Fatalf("RefreshTokens: %v", merged)
	}
}

// rotatingMiddleware stands where mockoidc cannot: mockoidc never rotates
// refresh tokens. On a refresh grant it replaces the refresh_token in
// mockoidc's answer with a new one minted with mockoidc's own key and the
// same session (jti), which mockoidc itself then accepts, i.e. a provider
// that rotates.
func rotatingMiddleware(m **mockoidc.MockOIDC, minted *[]string, mu *sync.Mutex) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != mockoidc.TokenEndpoint {
				next.ServeHTTP(w, r)
				return
			}
			_ = r.ParseForm()
			if r.PostForm.Get("grant_type") != "refresh_token" {
				next.ServeHTTP(w, r)
				return
			}
			rec := newRecorder()
			next.ServeHTTP(rec, r)
			body := rec.jsonBody()
			if rec.code == http.StatusOK {
				old := r.PostForm.Get("refresh_token")
				jti := unverifiedClaim(old, "jti")
				c := mintClaims((*m).Issuer(), (*m).ClientID, "rotated", jti, time.Now().Add(time.Hour))
				mu.Lock()
				c["generation"] = len(*minted) // RSA signatures are deterministic: make each token new
				mu.Unlock()
				nt, err := (*m).Keypair.SignJWT(c)
				if err != nil {
					http.Error(w, "mint failed", 500)
					return
				}
				body["refresh_token"] = nt
				mu.Lock()
				*minted = append(*minted, nt)
				mu.Unlock()
			}
			rec.writeJSON(w, body)
		})
	}
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	var (
		m      *mockoidc.MockOIDC
		minted []string
		mu     sync.Mutex
	)
	m, _ = startMockOIDC(t, rotatingMiddleware(&m, &minted, &mu))
	clk := newFakeClock()
	p := newTestProvider(t, m, clk, func(c *Config) { c.RotationGrace = time.Minute })
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	first, _, err := p.Exchange(ctx, authorize(t, m.AuthorizationEndpoint(), m.ClientID, verifier, nil), verifier, testRedirect)
	if err != nil {
		t.Fatal(err)
	}

	second, err := p.RefreshTokens(ctx, first)
	if err != nil {
		t.Fatalf("RefreshTokens: %v", err)
	}
	mu.Lock()
	rotated := minted[len(minted)-1]
	mu.Unlock()
	if second.RefreshToken != rotated || second.RefreshToken == first.RefreshToken {
		t.Fatal("new refresh token not taken over")
	}
	if second.PrevRefreshToken != first.RefreshToken {
		t.Fatal("old refresh token not kept as PrevRefreshToken")
	}
	if want := clk.Now().Add(time.Minute); !second.PrevRefreshUntil.Equal(want) {
		t.Fatalf("PrevRefreshUntil = %v, want %v", second.PrevRefreshUntil, want)
	}

	// The rotated token works at the provider, and rotates again.
	third, err := p.RefreshTokens(ctx, second)
	if err != nil {
		t.Fatalf("refresh with the rotated token: %v", err)
	}
	if third.PrevRefreshToken != second.RefreshToken || third.RefreshToken == second.RefreshToken {
		t.Fatalf("second rotation not recorded")
	}
}

func TestRefreshInvalidGrantNotRetried(t *testing.T) {
	t.Parallel()
	m, cnt := startMockOIDC(t)
	clk := newFakeClock()
	p := newTestProvider(t, m, clk)
	ctx := context.Background()

	// A well-formed refresh token for a session mockoidc does not know:
	// mockoidc's own refresh handling answers invalid_grant.
	unknown, err := m.Keypair.SignJWT(mintClaims(m.Issuer(), m.ClientID, "user-1", "no-such-session", time.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Refresh(ctx, unknown)
	if !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("unknown session: %v, want ErrInvalidGrant", err)
	}
	assertNoSecret(t, err, unknown, m.ClientSecret)

	// A revoked refresh token, as mockoidc's error queue lets a test say.
	m.QueueError(&mockoidc.ServerError{Code: http.StatusBadRequest, Error: mockoidc.InvalidGrant, Description: "refresh token revoked"})
	_, err = p.Refresh(ctx, "revoked-refresh-token")
	if !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("queued invalid_grant: %v, want ErrInvalidGrant", err)
	}
	if got := cnt.get(mockoidc.TokenEndpoint); got != 2 {
		t.Fatalf("token endpoint called %d times, want 2: invalid_grant is never retried", got)
	}
	if s := clk.Sleeps(); len(s) != 0 {
		t.Fatalf("backed off %v on invalid_grant", s)
	}
}

func TestRefreshRetriesServerErrors(t *testing.T) {
	t.Parallel()
	m, cnt := startMockOIDC(t)
	clk := newFakeClock()
	p := newTestProvider(t, m, clk, func(c *Config) {
		c.Retry = RetryPolicy{MaxAttempts: 4, BaseDelay: 200 * time.Millisecond, MaxDelay: time.Second, Budget: 10 * time.Second}
	})
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	toks, _, err := p.Exchange(ctx, authorize(t, m.AuthorizationEndpoint(), m.ClientID, verifier, nil), verifier, testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	calls := cnt.get(mockoidc.TokenEndpoint)

	// mockoidc's error queue: the next two requests (both token calls, as
	// discovery is cached) answer 500, the third is served normally.
	for range 2 {
		m.QueueError(&mockoidc.ServerError{Code: http.StatusInternalServerError, Error: mockoidc.InternalServerError, Description: "boom"})
	}
	next, err := p.Refresh(ctx, toks.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh after two 500s: %v", err)
	}
	if next.AccessToken == "" {
		t.Fatal("no access token")
	}
	if got := cnt.get(mockoidc.TokenEndpoint) - calls; got != 3 {
		t.Fatalf("token endpoint called %d times, want 3", got)
	}
	sleeps := clk.Sleeps()
	if len(sleeps) != 2 {
		t.Fatalf("slept %v, want two backoffs", sleeps)
	}
	for i, d := range sleeps {
		if limit := backoffCap(p.cfg.Retry, i+1); d < 0 || d > limit {
			t.Fatalf("backoff %d = %v, outside full-jitter range [0, %v]", i+1, d, limit)
		}
	}
}

func TestProviderDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("nothing listens at the issuer", func(t *testing.T) {
		clk := newFakeClock()
		p, err := New(Config{Issuer: closedPortURL(t), ClientID: "c", RedirectURIs: []string{testRedirect}, Now: clk.Now, Sleep: clk.Sleep})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Refresh(ctx, "rt-secret")
		if !errors.Is(err, ErrUnavailable) || RetryAfter(err) < time.Second {
			t.Fatalf("Refresh: %v (retry after %v), want ErrUnavailable", err, RetryAfter(err))
		}
		assertNoSecret(t, err, "rt-secret")
		_, _, err = p.Exchange(ctx, "code", oauth2.GenerateVerifier(), testRedirect)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Exchange: %v, want ErrUnavailable", err)
		}
		if _, err := p.VerifyIDToken(ctx, "x.y.z", ""); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("VerifyIDToken: %v, want ErrUnavailable", err)
		}
	})

	t.Run("token endpoint goes away after discovery", func(t *testing.T) {
		m, _ := startMockOIDC(t)
		clk := newFakeClock()
		p := newTestProvider(t, m, clk)
		if _, err := p.current(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.Shutdown(); err != nil {
			t.Fatal(err)
		}
		_, err := p.Refresh(ctx, "rt-secret")
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Refresh: %v, want ErrUnavailable", err)
		}
		if n := len(clk.Sleeps()); n != DefaultMaxAttempts-1 {
			t.Fatalf("backed off %d times, want %d (bounded attempts)", n, DefaultMaxAttempts-1)
		}
		if RetryAfter(err) < time.Second {
			t.Fatalf("RetryAfter = %v", RetryAfter(err))
		}
		assertNoSecret(t, err, "rt-secret", m.ClientSecret)
	})
}

func TestDiscoveryCache(t *testing.T) {
	t.Parallel()
	m, cnt := startMockOIDC(t)
	clk := newFakeClock()
	p := newTestProvider(t, m, clk)
	ctx := context.Background()

	// Concurrent cold calls share one fetch.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := p.current(ctx)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := cnt.get(mockoidc.DiscoveryEndpoint); got != 1 {
		t.Fatalf("discovery fetched %d times by 16 concurrent callers, want 1", got)
	}
	clk.Advance(DefaultDiscoveryTTL - time.Second)
	if _, err := p.current(ctx); err != nil || cnt.get(mockoidc.DiscoveryEndpoint) != 1 {
		t.Fatalf("refetched before the TTL: %v, %d", err, cnt.get(mockoidc.DiscoveryEndpoint))
	}
	clk.Advance(2 * time.Second)
	if _, err := p.current(ctx); err != nil || cnt.get(mockoidc.DiscoveryEndpoint) != 2 {
		t.Fatalf("not refetched after the TTL: %v, %d", err, cnt.get(mockoidc.DiscoveryEndpoint))
	}

	// A failed fetch is not cached: mockoidc's error queue fails the next
	// discovery request, and the call after it succeeds.
	clk.Advance(DefaultDiscoveryTTL)
	m.QueueError(&mockoidc.ServerError{Code: http.StatusServiceUnavailable, Error: "temporarily_unavailable"})
	if _, err := p.current(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("failed discovery: %v, want ErrUnavailable", err)
	}
	if _, err := p.current(ctx); err != nil {
		t.Fatalf("discovery after a failure: %v", err)
	}
	if got := cnt.get(mockoidc.DiscoveryEndpoint); got != 4 {
		t.Fatalf("discovery fetched %d times, want 4", got)
	}
}

func TestDiscoveryIssuerMismatch(t *testing.T) {
	t.Parallel()
	m, _ := startMockOIDC(t)
	clk := newFakeClock()
	// Same server, but the configured issuer has a trailing slash, so it is
	// not the issuer mockoidc's document (and tokens) name.
	p := newTestProvider(t, m, clk, func(c *Config) { c.Issuer = m.Issuer() + "/" })
	_, err := p.Refresh(context.Background(), "rt")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "issuer") {
		t.Fatalf("got %v, want ErrUnavailable naming the issuer mismatch", err)
	}
}

func TestIntrospectRevokeNotPublished(t *testing.T) {
	t.Parallel()
	m, _ := startMockOIDC(t)
	p := newTestProvider(t, m, newFakeClock())
	ctx := context.Background()
	if _, _, err := p.Introspect(ctx, "tok"); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("Introspect: %v, want ErrNotSupported", err)
	}
	if err := p.Revoke(ctx, "tok", "refresh_token"); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("Revoke: %v, want ErrNotSupported", err)
	}
}

func TestNilProvider(t *testing.T) {
	t.Parallel()
	var p *Provider
	ctx := context.Background()
	if _, _, err := p.Exchange(ctx, "c", "v", "r"); !errors.Is(err, ErrNotConfigured) {
		t.Fatal(err)
	}
	if _, err := p.VerifyIDToken(ctx, "t", ""); !errors.Is(err, ErrNotConfigured) {
		t.Fatal(err)
	}
	if _, err := p.Refresh(ctx, "r"); !errors.Is(err, ErrNotConfigured) {
		t.Fatal(err)
	}
	if _, err := p.RefreshTokens(ctx, Tokens{}); !errors.Is(err, ErrNotConfigured) {
		t.Fatal(err)
	}
	if _, _, err := p.Introspect(ctx, "t"); !errors.Is(err, ErrNotConfigured) {
		t.Fatal(err)
	}
	if err := p.Revoke(ctx, "t", ""); !errors.Is(err, ErrNotConfigured) {
		t.Fatal(err)
	}
	if p.NeedsRefresh(Tokens{RefreshToken: "r", Expiry: time.Unix(1, 0)}) {
		t.Fatal("nil provider wants a refresh")
	}
}
