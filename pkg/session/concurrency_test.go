package session

import (
	"errors"
	"sync"
	"testing"

	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
)

// 64 goroutines present the same refresh token at once, 100 times over:
// every success carries the same successor, the session advances exactly
// one generation per round (never two live successors), and the only
// refusals are invalid_grant. Real Redis only: the point is many
// connections racing on a real server.
func TestRacingRefreshRealRedis(t *testing.T) {
	if kvtest.RedisURL() == "" {
		t.Skip(kvtest.SkipMessage)
	}
	eachStore(t, nil, func(t *testing.T, e *env) {
		if !e.tr.Real || e.tr.Name != kvtest.Redis {
			t.Skip("native Redis transport only")
		}
		is := e.create(t, "racer")
		rt := is.RefreshToken
		const workers, rounds = 64, 100
		for round := 0; round < rounds; round++ {
			var wg sync.WaitGroup
			results := make([]*Issued, workers)
			errs := make([]error, workers)
			start := make(chan struct{})
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					<-start
					results[w], errs[w] = e.refresh(rt)
				}(w)
			}
			close(start)
			wg.Wait()
			var next string
			for w := 0; w < workers; w++ {
				if errs[w] != nil {
					if !errors.Is(errs[w], ErrInvalidGrant) {
						t.Fatalf("round %d worker %d: unexpected error %v", round, w, errs[w])
					}
					continue
				}
				if next == "" {
					next = results[w].RefreshToken
				}
				if results[w].RefreshToken != next {
					t.Fatalf("round %d: two different successors handed out", round)
				}
			}
			if next == "" {
				t.Fatalf("round %d: every request refused", round)
			}
			v, err := e.tr.Client.Do(e.ctx, "HGET", e.cfg.KeyPrefix+"s:"+is.Session.ID, "gen")
			if err != nil {
				t.Fatal(err)
			}
			if v != itoa(round+1) {
				t.Fatalf("round %d: session at generation %v, want %d (exactly one rotation)", round, v, round+1)
			}
			rt = next
		}
	})
}

func itoa(i int) string {
	return string(appendInt(nil, i))
}

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}
