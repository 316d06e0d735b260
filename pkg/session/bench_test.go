package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
	"github.com/sessionkit/sessiond/pkg/token"
)

// benchStores returns the embedded store and, with REDIS_URL, real Redis.
func benchStores(b *testing.B) []kvtest.Named {
	var out []kvtest.Named
	for _, tr := range kvtest.Transports(b) {
		if tr.Name == kvtest.Embedded || tr.Name == kvtest.Redis {
			out = append(out, tr)
		}
	}
	return out
}

func benchManager(b *testing.B, store kv.Client) *Manager {
	clk := newClock()
	m, err := New(store, testConfig(b, clk))
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkIssueAccessToken(b *testing.B) {
	m := benchManager(b, nil)
	now := time.Now()
	s := Session{ID: "0193a6f0-0000-7000-8000-000000000000", UserID: "bench", ExpiresAt: now.Add(time.Hour)}
	r := token.Refresh{Gen: 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.issue(s, r, now.UnixMilli(), "", now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyAccessToken(b *testing.B) {
	m := benchManager(b, nil)
	now := time.Now()
	is, err := m.issue(Session{ID: "0193a6f0-0000-7000-8000-000000000000", UserID: "bench", ExpiresAt: now.Add(time.Hour)},
		token.Refresh{}, now.UnixMilli(), "", now)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.cfg.Verifier.Verify(is.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefresh is a full refresh: parse, one script (rotation, risk,
// audit), sign. Each iteration rotates the token the previous one got.
func BenchmarkRefresh(b *testing.B) {
	for _, tr := range benchStores(b) {
		b.Run(tr.Name, func(b *testing.B) {
			m := benchManager(b, tr.Client)
			ctx := context.Background()
			c := client("203.0.113.7", chromeUA)
			is, err := m.Create(ctx, CreateRequest{UserID: "bench", Client: c, Device: laptop()})
			if err != nil {
				b.Fatal(err)
			}
			rt := is.RefreshToken
			b.ReportAllocs()
			for b.Loop() {
				r, err := m.Refresh(ctx, RefreshRequest{RefreshToken: rt, Client: c, Device: laptop()})
				if err != nil {
					b.Fatal(err)
				}
				rt = r.RefreshToken
			}
		})
	}
}

func BenchmarkIntrospect(b *testing.B) {
	for _, tr := range benchStores(b) {
		b.Run(tr.Name, func(b *testing.B) {
			m := benchManager(b, tr.Client)
			ctx := context.Background()
			is, err := m.Create(ctx, CreateRequest{UserID: "bench", Client: client("203.0.113.7", chromeUA)})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				in, err := m.Introspect(ctx, is.AccessToken, IntrospectRequest{Caller: "rs"})
				if err != nil || !in.Active {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCreate(b *testing.B) {
	for _, tr := range benchStores(b) {
		b.Run(tr.Name, func(b *testing.B) {
			m := benchManager(b, tr.Client)
			ctx := context.Background()
			c := client("203.0.113.7", chromeUA)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Create(ctx, CreateRequest{UserID: "bench", Client: c, Device: laptop()}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSummary: the security summary over the audit events of 100
// session creations (reported as events/op), the shape of the cold-start
// probe of /api/security/summary.
func BenchmarkSummary(b *testing.B) {
	for _, tr := range benchStores(b) {
		b.Run(tr.Name, func(b *testing.B) {
			m := benchManager(b, tr.Client)
			ctx := context.Background()
			for i := range 100 {
				if _, err := m.Create(ctx, CreateRequest{UserID: fmt.Sprintf("bench-%d", i%26), Client: client("203.0.113.7", chromeUA)}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			events := 0
			for b.Loop() {
				s, err := m.Summary(ctx, 24*time.Hour)
				if err != nil || s.EventsScanned < 100 {
					b.Fatal(s, err)
				}
				events = s.EventsScanned
			}
			b.ReportMetric(float64(events), "events/op")
		})
	}
}
