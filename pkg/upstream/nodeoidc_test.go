package upstream

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// startNodeOIDC starts oauth2-mock-server (npm) through
// scripts/oidc-mock-server.js and returns its issuer URL. Without node or
// the installed package the test is skipped, unless CI or
// SESSIOND_REQUIRE_NODE is set: there a missing provider is a failure, so
// the test cannot silently skip where it is meant to run.
func startNodeOIDC(t *testing.T) string {
	t.Helper()
	root := moduleRoot(t)
	missing := ""
	node, err := exec.LookPath("node")
	if err != nil {
		missing = "node is not on PATH"
	} else if _, err := os.Stat(filepath.Join(root, "node_modules", "oauth2-mock-server", "package.json")); err != nil {
		missing = "node_modules/oauth2-mock-server is not installed (run `npm ci` at the repository root)"
	}
	if missing != "" {
		if os.Getenv("CI") != "" || os.Getenv("SESSIOND_REQUIRE_NODE") != "" {
			t.Fatalf("oauth2-mock-server required here but %s", missing)
		}
		t.Skipf("skipping the oauth2-mock-server flow: %s", missing)
	}

	cmd := exec.Command(node, filepath.Join(root, "scripts", "oidc-mock-server.js"), "--watch-stdin")
	cmd.Dir = root
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node: %v", err)
	}
	t.Cleanup(func() {
		// Closing stdin stops the script (--watch-stdin); SIGTERM is the
		// fallback. Only our own child is signalled, by its pid.
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-done
		}
	})

	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		if s.Scan() {
			line <- strings.TrimSpace(s.Text())
		}
		close(line)
	}()
	select {
	case issuer, ok := <-line:
		if !ok || !strings.HasPrefix(issuer, "http://127.0.0.1:") {
			t.Fatalf("oidc-mock-server printed %q; stderr: %s", issuer, stderr.String())
		}
		return issuer
	case <-time.After(60 * time.Second): // a hang guard, not a speed check
		t.Fatalf("oidc-mock-server did not start; stderr: %s", stderr.String())
	}
	return ""
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

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
