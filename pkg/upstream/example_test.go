package upstream_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/sessiond/pkg/seal"
	"github.com/sessionkit/sessiond/pkg/upstream"
)

func ExampleNeedsRefresh() {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	t := upstream.Tokens{AccessToken: "at", RefreshToken: "rt", Expiry: now.Add(10 * time.Minute)}

	fmt.Println(upstream.NeedsRefresh(t, now, 0))                    // default window: 5m
	fmt.Println(upstream.NeedsRefresh(t, now.Add(6*time.Minute), 0)) // 4m left
	fmt.Println(upstream.NeedsRefresh(t, now, 15*time.Minute))
	// Output:
	// false
	// true
	// true
}

func ExampleSealTokens() {
	s, err := seal.New(bytes.Repeat([]byte{9}, seal.KeySize)) // seal.ParseKey(os.Getenv("SESSION_ENCRYPTION_KEY"))
	if err != nil {
		panic(err)
	}
	text, err := upstream.SealTokens(s, "sess-1", upstream.Tokens{AccessToken: "at", RefreshToken: "rt"})
	if err != nil {
		panic(err)
	}
	// text goes into the session's hash in the KV store.

	t, err := upstream.OpenTokens(s, "sess-1", text)
	fmt.Println(t.RefreshToken, err)

	_, err = upstream.OpenTokens(s, "sess-2", text) // copied into another session
	fmt.Println(errors.Is(err, seal.ErrOpen))
	// Output:
	// rt <nil>
	// true
}

func ExampleProvider_RefreshTokens() {
	cfg, err := upstream.ConfigFromEnv(func(string) string { return "" })
	if errors.Is(err, upstream.ErrNotConfigured) {
		fmt.Println("no upstream provider configured")
	}
	// With OIDC_* set: p, err := upstream.New(cfg); then, under the
	// session's refresh lease:
	//
	//	if p.NeedsRefresh(cur) {
	//		next, err := p.RefreshTokens(ctx, cur)
	//		switch {
	//		case errors.Is(err, upstream.ErrInvalidGrant): // end the session
	//		case err != nil: // 503, Retry-After: upstream.RetryAfter(err)
	//		default: // store upstream.SealTokens(sealer, sid, next)
	//		}
	//	}
	var p *upstream.Provider // nil: not configured
	_, err = p.RefreshTokens(context.Background(), upstream.Tokens{})
	fmt.Println(err, cfg.Issuer == "")
	// Output:
	// no upstream provider configured
	// upstream: provider not configured true
}
