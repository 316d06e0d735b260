package session

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/kv"
)

// TestRoundTrips pins the KV round trips of each operation, with rate
// limits, hijack scoring and audit writes all on (the defaults), and
// prints the table that doc.go shows. Scripts are loaded first, so the
// counts are those of a warm instance (a cold one pays one extra trip per
// script, once: EVALSHA answers NOSCRIPT, then EVAL).
func TestRoundTrips(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RateLimitScale = nil })
	counting := kv.NewCounting(e.tr.Client)
	m, err := New(counting, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := client("203.0.113.7", chromeUA)
	// Warm the script cache.
	warm, _ := m.Create(ctx, CreateRequest{UserID: "warm", Client: c, Device: laptop()})
	w2, _ := m.Refresh(ctx, RefreshRequest{RefreshToken: warm.RefreshToken, Client: c, Device: laptop()})
	_, _ = m.Introspect(ctx, w2.AccessToken, IntrospectRequest{Caller: "rs"})
	_, _ = m.List(ctx, "warm", "", c)
	_ = m.Revoke(ctx, w2.AccessToken, "", c)
	_ = m.Revoke(ctx, w2.RefreshToken, "", c)

	var is, r *Issued
	ops := []struct {
		name string
		want int
		run  func() error
	}{
		{"create", 1, func() (err error) {
			is, err = m.Create(ctx, CreateRequest{UserID: "rt-user", Client: c, Device: laptop()})
			return err
		}},
		{"refresh (no upstream work)", 1, func() (err error) {
			r, err = m.Refresh(ctx, RefreshRequest{RefreshToken: is.RefreshToken, Client: c, Device: laptop()})
			return err
		}},
		{"introspect access token", 1, func() error {
			in, err := m.Introspect(ctx, r.AccessToken, IntrospectRequest{Caller: "rs"})
			if err == nil && !in.Active {
				err = fmt.Errorf("inactive")
			}
			return err
		}},
		{"authenticate bearer", 1, func() error { _, err := m.Authenticate(ctx, r.AccessToken, c); return err }},
		{"list sessions", 1, func() error { _, err := m.List(ctx, "rt-user", r.Session.ID, c); return err }},
		{"revoke access token", 1, func() error { return m.Revoke(ctx, is.AccessToken, "", c) }},
		{"revoke refresh token", 1, func() error { return m.Revoke(ctx, r.RefreshToken, "", c) }},
		{"audit page", 1, func() error { _, err := m.Audit(ctx, AuditQuery{UserID: "rt-user"}); return err }},
		{"security summary", 1, func() error { _, err := m.Summary(ctx, time.Hour); return err }},
		{"introspect after revoke", 1, func() error {
			in, err := m.Introspect(ctx, r.AccessToken, IntrospectRequest{Caller: "rs"})
			if err == nil && in.Active {
				err = fmt.Errorf("still active")
			}
			return err
		}},
	}
	var table strings.Builder
	table.WriteString("| operation | KV round trips | commands |\n|---|---|---|\n")
	for _, op := range ops {
		counting.Reset()
		if err := op.run(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		log := counting.Log()
		if len(log) != op.want {
			t.Errorf("%s: %d round trips %v, want %d", op.name, len(log), log, op.want)
		}
		var cmds []string
		for _, trip := range log {
			cmds = append(cmds, strings.Join(trip, "+"))
		}
		fmt.Fprintf(&table, "| %s | %d | %s |\n", op.name, len(log), strings.Join(cmds, ", "))
	}
	t.Logf("round trips per operation:\n%s", table.String())
}
