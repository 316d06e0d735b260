package httpapi_test

// 200 bad refresh attempts from one IP over HTTP, rate limits on at their
// defaults (SESSION_RATE_LIMIT_SCALE=1: from the 10th failure in a row on,
// each failure locks the IP out for 1s * 2^(n-10), capped at 15 min, with
// equal jitter; pkg/session Limits.RefreshFailures and lua/lib.lua fail()).
//
// The client IP is the socket peer (the default policy, clientip.go): the
// attacker dials from 127.0.0.1, the bystander from 127.0.3.4 (Linux
// routes all of 127.0.0.0/8 to loopback), so no header is trusted at all.
// Time is the Manager's injected clock (WithSessionConfig sets
// session.Config.Now): on each 429 the test moves it by exactly the
// Retry-After it was given, so the next attempt shows that the wait was
// enough, and is counted as the next failure.

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/token"
)

// lockoutBounds returns the Retry-After range (whole seconds) of the k-th
// lockout (k = 1 at the threshold): the lockout is d = min(cap, 1s*2^(k-1))
// jittered into [d/2, d], at least 1s, and Retry-After rounds it up.
func lockoutBounds(k int) (lo, hi int) {
	d := math.Min(900, math.Pow(2, float64(k-1)))
	lo = int(math.Ceil(math.Max(1, d/2)))
	hi = int(math.Ceil(math.Max(1, d)))
	return lo, hi
}

func TestAdversarialLockout200(t *testing.T) {
	env := map[string]string{"SESSION_RATE_LIMIT_SCALE": "1", "SESSION_IDLE_TIMEOUT": "72h"}
	eachAdv(t, env, func(t *testing.T, a *advServer) {
		const attacker, bystander = "127.0.0.1", "127.0.3.4"
		started := time.Now()
		// The attacker's own live session: its genuine token is refused too
		// while the IP is locked out (the lockout is per IP, not per token).
		own := a.create(t, "attacker", nil, attacker, "")
		// A real token of an ended session: it parses, reaches the store,
		// and fails there, unlike pure garbage.
		dead := a.create(t, "ended", nil, attacker, "")
		want{status: 200, body: `{}`}.check(t, a.do(t, areq{method: "POST", path: "/api/revoke", from: attacker,
			form: url.Values{"token": {dead.Refresh}}}))
		by := a.create(t, "bystander", nil, bystander, "")

		bad := func(i int) string {
			switch i % 3 {
			case 0:
				return fmt.Sprintf("garbage-%d", i)
			case 1:
				return token.RefreshPrefix + strings.Repeat(string(rune('A'+i%26)), 91)
			}
			return dead.Refresh
		}
		var (
			statuses []int
			retry    []int // Retry-After of each lockout, in order
		)
		for i := 0; i < 200; i++ {
			r := a.refresh(t, bad(i), attacker, "")
			statuses = append(statuses, r.Status)
			switch r.Status {
			case http.StatusBadRequest:
				wantInvalidGrant.check(t, r)
			case http.StatusTooManyRequests:
				want{status: 429, code: "rate_limited"}.check(t, r)
				if string(r.Body) != `{"error":"rate_limited","error_description":"too many requests; retry later"}` {
					t.Fatalf("429 body %s", r.Body)
				}
				ra, _ := strconv.Atoi(r.Header.Get("Retry-After"))
				retry = append(retry, ra)
				k := len(retry)
				if lo, hi := lockoutBounds(k); ra < lo || ra > hi {
					t.Fatalf("lockout %d: Retry-After %d outside [%d, %d]", k, ra, lo, hi)
				}
				if k%20 == 1 {
					// Locked out means the IP, whatever it presents.
					want{status: 429, code: "rate_limited"}.check(t, a.refresh(t, own.Refresh, attacker, ""))
				}
				a.clock.Advance(time.Duration(ra) * time.Second)
			default:
				t.Fatalf("attempt %d: unexpected %d %s", i+1, r.Status, r.Body)
			}
			if i%10 == 9 {
				// Meanwhile, another IP is served normally: its own bad
				// token is an ordinary invalid_grant, its good one rotates.
				wantInvalidGrant.check(t, a.refresh(t, "bystander-typo", bystander, ""))
				r := a.refresh(t, by.Refresh, bystander, "")
				want{status: 200}.check(t, r)
				by.Refresh = issuedOf(t, r).Refresh
			}
		}

		// The pattern: 10 failures, then each wait answered with a 429
		// and each attempt after the wait refused and counted.
		for i, s := range statuses {
			w := http.StatusBadRequest
			if i >= 10 && (i-10)%2 == 0 {
				w = http.StatusTooManyRequests
			}
			if s != w {
				t.Fatalf("attempt %d: %d, want %d (all: %v)", i+1, s, w, statuses)
			}
		}
		if len(retry) != 95 {
			t.Fatalf("%d lockouts, want 95", len(retry))
		}
		// The lockout grows: doubling, never shorter than the one before,
		// until it reaches the cap (15 min, jittered into [7.5, 15] min).
		for k := 1; k < len(retry) && k < 10; k++ {
			if retry[k] < retry[k-1] {
				t.Fatalf("lockout %d (%ds) shorter than lockout %d (%ds): %v", k+1, retry[k], k, retry[k-1], retry)
			}
		}
		if retry[0] != 1 || retry[9] < 256 || retry[len(retry)-1] < 450 {
			t.Fatalf("the lockout did not grow from 1s to the cap: %v", retry)
		}
		t.Logf("Retry-After of the first 12 lockouts: %v; the last: %d", retry[:12], retry[len(retry)-1])

		// After the last wait the attacker's own genuine token works, and
		// that success resets the count: the next bad token is a plain
		// invalid_grant, not a lockout.
		a.clock.Advance(16 * time.Minute)
		want{status: 200}.check(t, a.refresh(t, own.Refresh, attacker, ""))
		wantInvalidGrant.check(t, a.refresh(t, "garbage-after-reset", attacker, ""))
		wantInvalidGrant.check(t, a.refresh(t, "garbage-after-reset-2", attacker, ""))

		// The audit has the lockout, sampled (at most one event a minute
		// per key, so 190 refusals cannot flood it), keyed by the IP.
		evs := withAction(a.events(t, ""), "rate_limit.lockout")
		maxEvents := 1 + int(time.Since(started)/time.Minute) + 1
		if len(evs) == 0 || len(evs) > maxEvents {
			t.Fatalf("%d rate_limit.lockout events for 190 lockout answers, want 1 to %d", len(evs), maxEvents)
		}
		for _, e := range evs {
			var d struct{ Key string }
			_ = json.Unmarshal(e.Details, &d)
			if d.Key != "refresh.fail:"+attacker || strOf(e.IP) != attacker {
				t.Fatalf("lockout event %s (ip %s)", e.Details, strOf(e.IP))
			}
		}
		r := a.do(t, areq{method: "GET", path: "/api/security/summary?window=720h", bearer: adminKey, from: bystander})
		want{status: 200}.check(t, r)
		var sum struct {
			RateLimitedKeys int `json:"rate_limited_keys"`
		}
		if err := json.Unmarshal(r.Body, &sum); err != nil || sum.RateLimitedKeys < 1 {
			t.Fatalf("summary: %s", r.Body)
		}
	})
}
