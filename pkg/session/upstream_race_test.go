package session

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/embedded"
	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
	"github.com/sessionkit/sessiond/pkg/upstream"
)

// upInstances returns n separate native clients of one store: the real
// Redis with REDIS_URL set, else an embedded store reached over TCP.
func upInstances(t *testing.T, n int) []kv.Client {
	t.Helper()
	url := kvtest.RedisURL()
	if url == "" {
		t.Log("embedded store over TCP; " + kvtest.SkipMessage)
		e, err := embedded.New()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		url = "redis://" + e.Addr()
	}
	out := make([]kv.Client, n)
	for i := range out {
		c, err := kv.NewRedisURL(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		out[i] = c
	}
	return out
}

// 32 instances (a Manager, a Provider and a store connection each, as 32
// warm serverless functions) refresh the same session with the same
// refresh token at once, its upstream token inside the refresh window. The
// provider, which rotates refresh tokens, must see exactly one refresh
// grant, and every caller must get the same successor. Five rounds.
func TestUpstreamRefreshOnceAcrossInstances(t *testing.T) {
	const n, rounds = 32, 5
	op := startOP(t, true)
	clk := newClock()
	cfg := testConfig(t, clk)
	sleeps := &upSleeps{}
	mgrs := make([]*Manager, n)
	for i, c := range upInstances(t, n) {
		ic := cfg
		ic.Upstream = newUpProvider(t, op, clk.Now, sleeps)
		m, err := New(c, ic)
		if err != nil {
			t.Fatal(err)
		}
		mgrs[i] = m
	}
	ctx := context.Background()
	req := func(rt string) RefreshRequest {
		return RefreshRequest{RefreshToken: rt, Client: client("203.0.113.7", chromeUA), Device: laptop()}
	}
	v := oauth2.GenerateVerifier()
	is, err := mgrs[0].CreateFromCode(ctx, op.code(t, "herd", v), v, upRedirect, laptop(), client("203.0.113.7", chromeUA))
	if err != nil {
		t.Fatal(err)
	}
	sid, rt := is.Session.ID, is.RefreshToken
	store := mgrs[0].kv

	for round := 1; round <= rounds; round++ {
		clk.Add(6 * time.Minute) // the upstream token (10 minutes) is inside the 5-minute window
		op.FastForward(6 * time.Minute)
		results := make([]*Issued, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range mgrs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = mgrs[i].Refresh(ctx, req(rt))
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: instance %d: %v", round, i, err)
			}
			if results[i].RefreshToken != results[0].RefreshToken || results[i].AccessToken != results[0].AccessToken {
				t.Fatalf("round %d: instances 0 and %d got different successors", round, i)
			}
		}
		if got := op.refreshGrants(); got != round {
			t.Fatalf("round %d: the provider saw %d refresh grants in all, want %d (one per round)", round, got, round)
		}
		gen, err := store.Do(ctx, "HGET", cfg.KeyPrefix+"s:"+sid, "gen")
		if err != nil || gen != strconv.Itoa(round) {
			t.Fatalf("round %d: session at generation %v (%v), want %d", round, gen, err, round)
		}
		raw, err := store.Do(ctx, "HGET", cfg.KeyPrefix+"s:"+sid, "up")
		if err != nil {
			t.Fatal(err)
		}
		s, _ := raw.(string)
		toks, err := upstream.OpenTokens(cfg.Sealer, sid, s)
		_, minted := op.record()
		if err != nil || len(minted) != round || toks.RefreshToken != minted[round-1] {
			t.Fatalf("round %d: stored upstream refresh token is not the one the provider rotated to (%v)", round, err)
		}
		rt = results[0].RefreshToken
	}
	if sleeps.n() != 0 {
		t.Fatalf("the provider was retried %d times", sleeps.n())
	}
}
