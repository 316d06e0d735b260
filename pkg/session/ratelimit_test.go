package session

import (
	"errors"
	"testing"
	"time"
)

// 200 bad refresh attempts from one IP: after the threshold every failure
// locks the IP out for twice as long as the one before (with equal jitter,
// fixed here at 0.5), each refusal says when to come back, and another IP
// is served all along.
func TestLockoutGrowsAndIsPerIP(t *testing.T) {
	eachStore(t, func(c *Config) { one := 1.0; c.RateLimitScale = &one }, func(t *testing.T, e *env) {
		good := e.create(t, "victim")
		attacker := client("192.0.2.66", "curl/8.0")
		var waits []time.Duration
		refusedBeforeThreshold := 0
		for i := 0; i < 200; i++ {
			_, err := e.Refresh(e.ctx, RefreshRequest{RefreshToken: "rt1.forged-token-" + itoa(i), Client: attacker})
			var rl *RateLimitError
			switch {
			case errors.As(err, &rl):
				if rl.RetryAfter < time.Second {
					t.Fatalf("Retry-After %v below 1s", rl.RetryAfter)
				}
				if !rl.Lockout {
					t.Fatalf("attempt %d: limited but not a lockout: %v", i, rl)
				}
				waits = append(waits, rl.RetryAfter)
				e.clk.Add(rl.RetryAfter) // come back exactly when told
			case errors.Is(err, ErrInvalidGrant):
				if len(waits) == 0 {
					refusedBeforeThreshold++
				}
			default:
				t.Fatalf("attempt %d: %v", i, err)
			}
			// Another IP is served normally throughout.
			if i%50 == 0 {
				r, err := e.refresh(good.RefreshToken)
				if err != nil {
					t.Fatalf("innocent IP refused at attempt %d: %v", i, err)
				}
				good = r
			}
		}
		if refusedBeforeThreshold != 10 {
			t.Errorf("%d plain refusals before the first lockout, want 10 (the threshold)", refusedBeforeThreshold)
		}
		if len(waits) < 5 {
			t.Fatalf("only %d lockouts", len(waits))
		}
		for i := 1; i < 6 && i < len(waits); i++ {
			if waits[i] <= waits[i-1] {
				t.Fatalf("lockout did not grow: %v", waits[:6])
			}
		}
		cap := DefaultLimits().RefreshFailures.Cap
		for _, w := range waits {
			if w > cap {
				t.Fatalf("lockout %v above the cap %v", w, cap)
			}
		}
		t.Logf("lockouts: %v ...", waits[:min(8, len(waits))])
	})
}

func TestRateLimitPerSession(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		one := 1.0
		c.RateLimitScale = &one
		l := DefaultLimits()
		l.RefreshPerSession = Rule{Limit: 3, Window: time.Minute}
		c.Limits = &l
	})
	is := e.create(t, "rl")
	rt := is.RefreshToken
	for i := 0; i < 3; i++ {
		r, err := e.refresh(rt)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		rt = r.RefreshToken
	}
	_, err := e.refresh(rt)
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.Rule != "refresh.session" || rl.Lockout {
		t.Fatalf("4th refresh in a minute: %v", err)
	}
	// Refused by the limit, the token was not consumed: it works later.
	e.clk.Add(rl.RetryAfter)
	if _, err := e.refresh(rt); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
}
