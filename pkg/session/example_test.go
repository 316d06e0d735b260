package session_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/sessionkit/sessiond/pkg/kv/embedded"
	"github.com/sessionkit/sessiond/pkg/seal"
	"github.com/sessionkit/sessiond/pkg/session"
	"github.com/sessionkit/sessiond/pkg/token"
)

func exampleManager() (*session.Manager, func()) {
	store, err := embedded.New()
	if err != nil {
		panic(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	signer, _ := token.NewSigner(key, "https://auth.example.com", "sessions", 15*time.Minute)
	verifier, _ := token.NewVerifier("https://auth.example.com", "sessions", []ed25519.PublicKey{key.Public().(ed25519.PublicKey)})
	sealer, _ := seal.New(master)
	m, err := session.New(store, session.Config{
		Signer: signer, Verifier: verifier, RefreshKeys: token.NewRefreshKeys(master), Sealer: sealer,
	})
	if err != nil {
		panic(err)
	}
	return m, func() { _ = store.Close() }
}

// A trusted back end creates a session; the client refreshes it; a
// resource server introspects the access token.
func Example() {
	m, done := exampleManager()
	defer done()
	ctx := context.Background()
	client := session.Client{IP: netip.MustParseAddr("203.0.113.7"), UserAgent: "example"}

	is, err := m.Create(ctx, session.CreateRequest{UserID: "user-42", Client: client})
	if err != nil {
		panic(err)
	}
	fmt.Println("created:", is.Session.State, is.ExpiresIn, "s")

	next, err := m.Refresh(ctx, session.RefreshRequest{RefreshToken: is.RefreshToken, Client: client})
	if err != nil {
		panic(err)
	}
	fmt.Println("rotated:", next.RefreshToken != is.RefreshToken, "generation", next.Session.Generation)

	in, _ := m.Introspect(ctx, next.AccessToken, session.IntrospectRequest{Caller: "api"})
	fmt.Println("active:", in.Active, "sub:", in.Subject)
	// Output:
	// created: active 900 s
	// rotated: true generation 1
	// active: true sub: user-42
}

// Revoking a refresh token ends its session: every access token of it is
// inactive on the next check, and the refresh token is refused.
func ExampleManager_Revoke() {
	m, done := exampleManager()
	defer done()
	ctx := context.Background()
	is, _ := m.Create(ctx, session.CreateRequest{UserID: "user-42"})

	_ = m.Revoke(ctx, is.RefreshToken, "refresh_token", session.Client{})

	in, _ := m.Introspect(ctx, is.AccessToken, session.IntrospectRequest{Caller: "api"})
	b, _ := in.MarshalJSON()
	fmt.Println(string(b))
	_, err := m.Refresh(ctx, session.RefreshRequest{RefreshToken: is.RefreshToken})
	fmt.Println(errors.Is(err, session.ErrInvalidGrant))
	// Output:
	// {"active":false}
	// true
}
