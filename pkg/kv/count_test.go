package kv_test

import (
	"context"
	"testing"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/embedded"
)

func TestCounting(t *testing.T) {
	e, err := embedded.New()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	s := kv.NewScript("return redis.call('INCR', KEYS[1])")

	for _, tc := range []struct {
		name  string
		inner kv.Client
		run   [][]string // trips of a first Run (script not loaded yet)
	}{
		{"package client", e, [][]string{{"EVALSHA"}, {"SCRIPT", "EVALSHA"}}},
		// A Client from elsewhere cannot report the fallback: one trip.
		{"foreign client", struct{ kv.Client }{e}, [][]string{{"EVALSHA"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			do(t, e, "SCRIPT", "FLUSH")
			c := kv.NewCounting(tc.inner)
			if _, err := c.Run(ctx, s, []string{"n"}); err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "Run trips", c.Log(), tc.run)

			c.Reset()
			do(t, c, "set", "k", "v")
			if _, err := c.Pipeline(ctx, []any{"GET", "k"}, []any{"incr", "n"}, []any{[]byte("ttl"), "k"}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Pipeline(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Run(ctx, s, []string{"n"}); err != nil {
				t.Fatal(err)
			}
			_, _ = c.Do(ctx, "HGET", "k", "f") // a failed call is a trip too
			wantEqual(t, "Trips", c.Trips(), 4)
			wantEqual(t, "Log", c.Log(), [][]string{{"SET"}, {"GET", "INCR", "TTL"}, {"EVALSHA"}, {"HGET"}})
		})
	}
}
