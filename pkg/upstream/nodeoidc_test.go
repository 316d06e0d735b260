package upstream

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessiond/pkg/upstream/upstreamtest"
)

func startNodeOIDC(t *testing.T) string { return upstreamtest.StartNodeOIDC(t) }

// TestNodeOIDCFullFlow runs the whole code + PKCE flow and a refresh over
// real HTTP against oauth2-mock-server, a standalone provider in another
// process. The client authenticates with client_secret_basic, chosen
// automatically (the server's discovery lists only "none").
func TestNodeOIDCFullFlow(t *testing.T) {
	t.Parallel()
	issuer := startNodeOIDC(t)
	clk := newFakeClock()
	const clientID, secret = "sessiond-test", "node-client-secret"
	p, err := New(Config{
		Issuer: issuer, ClientID: clientID, ClientSecret: secret,
		RedirectURIs: []string{testRedirect}, Now: clk.Now, Sleep: clk.Sleep,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Code + PKCE.
	verifier := oauth2.GenerateVerifier()
	nonce := "n-" + oauth2.GenerateVerifier()[:12]
	code := authorize(t, issuer+"/authorize", clientID, verifier, map[string][]string{"nonce": {nonce}})
	toks, id, err := p.Exchange(ctx, code, verifier, testRedirect)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if id.Subject != "johndoe" || id.Issuer != issuer {
		t.Fatalf("identity = %+v", id)
	}
	if toks.AccessToken == "" || toks.RefreshToken == "" || toks.IDToken == "" || !strings.EqualFold(toks.TokenType, "bearer") {
		t.Fatalf("tokens = %v", toks)
	}
	if d := toks.Expiry.Sub(clk.Now()); d != time.Hour {
		t.Fatalf("expiry in %v, want the server's expires_in of 3600s", d)
	}
	if p.NeedsRefresh(toks) {
		t.Fatal("fresh tokens need a refresh")
	}

	// The ID token as a bare login proof, with the nonce the server bound.
	if _, err := p.VerifyIDToken(ctx, toks.IDToken, nonce); err != nil {
		t.Fatalf("VerifyIDToken with the right nonce: %v", err)
	}
	if _, err := p.VerifyIDToken(ctx, toks.IDToken, "other-nonce"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("VerifyIDToken with another nonce: %v", err)
	}

	// Inside the refresh window; the server rotates refresh tokens.
	clk.Advance(56 * time.Minute)
	if !p.NeedsRefresh(toks) {
		t.Fatal("4 minutes before expiry is inside the 5m window")
	}
	next, err := p.RefreshTokens(ctx, toks)
	if err != nil {
		t.Fatalf("RefreshTokens: %v", err)
	}
	// (The access token may equal the old one: this server signs the same
	// claims within the same second deterministically.)
	if next.AccessToken == "" {
		t.Fatal("no access token")
	}
	if next.RefreshToken == toks.RefreshToken || next.PrevRefreshToken != toks.RefreshToken {
		t.Fatal("rotation not recorded: new refresh token taken, old one kept as previous")
	}
	if !next.PrevRefreshUntil.Equal(clk.Now().Add(DefaultRotationGrace)) {
		t.Fatalf("PrevRefreshUntil = %v", next.PrevRefreshUntil)
	}
	if next.IDToken == "" || p.NeedsRefresh(next) {
		t.Fatalf("refreshed tokens = %v", next)
	}

	// A verifier that does not match the challenge is refused. The RFC
	// 7636 §4.6 answer would be invalid_grant; this server says
	// invalid_request, which we report as ErrRejected.
	code2 := authorize(t, issuer+"/authorize", clientID, verifier, nil)
	_, _, err = p.Exchange(ctx, code2, oauth2.GenerateVerifier(), testRedirect)
	if !errors.Is(err, ErrRejected) && !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("Exchange with a wrong verifier: %v", err)
	}
	assertNoSecret(t, err, code2, verifier, secret)

	// RFC 7662 and RFC 7009 at the provider.
	active, claims, err := p.Introspect(ctx, next.AccessToken)
	if err != nil || !active || claims["active"] != true {
		t.Fatalf("Introspect = %v %v %v", active, claims, err)
	}
	if err := p.Revoke(ctx, next.RefreshToken, "refresh_token"); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if len(clk.Sleeps()) != 0 {
		t.Fatalf("retried against a healthy server: %v", clk.Sleeps())
	}
}
