package session

import (
	"math"
	"math/rand/v2"
	"time"
)

// Rule is one rate limit: at most Limit requests per Window for one key,
// with bursts of up to Limit (GCRA, see lua/lib.lua). A zero Limit turns
// the rule off.
type Rule struct {
	Limit  int
	Window time.Duration
}

// Lockout is an exponential lockout after repeated failures from one key:
// from the Threshold-th failure in a row on, each failure locks the key out
// for Base * 2^(n - Threshold), at most Cap, with equal jitter. A success
// from the key resets it. A zero Threshold turns it off.
type Lockout struct {
	Threshold int
	Base, Cap time.Duration
}

// Limits are the rate limits and lockouts of every operation. What each is
// keyed by is part of its name: the client IP comes from the HTTP layer,
// which takes it only from headers the platform sets (never a client's
// X-Forwarded-For unless SESSION_TRUST_PROXY=1); keying a limit on
// something the client chooses would let it pick a fresh key per request.
type Limits struct {
	CreatePerIP         Rule // sessions created from one IP (default 30/min)
	CreatePerUser       Rule // sessions created for one user (default 20/min)
	RefreshPerIP        Rule // refreshes from one IP (default 300/min)
	RefreshPerSession   Rule // refreshes of one session (default 30/min)
	IntrospectPerCaller Rule // introspections by one resource-server key (default 600,000/min)
	RevokePerIP         Rule // revocations from one IP (default 60/min)

	RefreshFailures Lockout // bad, reused or refused refresh tokens from one IP (10, 1s, 15m)
	CreateFailures  Lockout // bad codes or ID tokens from one IP (10, 1s, 15m)
	AdminFailures   Lockout // wrong admin, introspection or cron keys from one IP (5, 1s, 15m)
}

// DefaultLimits returns the limits used when Config.Limits is nil.
func DefaultLimits() Limits {
	return Limits{
		CreatePerIP:         Rule{30, time.Minute},
		CreatePerUser:       Rule{20, time.Minute},
		RefreshPerIP:        Rule{300, time.Minute},
		RefreshPerSession:   Rule{30, time.Minute},
		IntrospectPerCaller: Rule{600000, time.Minute},
		RevokePerIP:         Rule{60, time.Minute},
		RefreshFailures:     Lockout{10, time.Second, 15 * time.Minute},
		CreateFailures:      Lockout{10, time.Second, 15 * time.Minute},
		AdminFailures:       Lockout{5, time.Second, 15 * time.Minute},
	}
}

// Scaled returns l with every limit and lockout threshold multiplied by f
// (SESSION_RATE_LIMIT_SCALE); f = 0 turns them all off.
func (l Limits) Scaled(f float64) Limits {
	r := func(x Rule) Rule {
		x.Limit = int(math.Ceil(float64(x.Limit) * f))
		return x
	}
	o := func(x Lockout) Lockout {
		x.Threshold = int(math.Ceil(float64(x.Threshold) * f))
		return x
	}
	return Limits{
		CreatePerIP: r(l.CreatePerIP), CreatePerUser: r(l.CreatePerUser),
		RefreshPerIP: r(l.RefreshPerIP), RefreshPerSession: r(l.RefreshPerSession),
		IntrospectPerCaller: r(l.IntrospectPerCaller), RevokePerIP: r(l.RevokePerIP),
		RefreshFailures: o(l.RefreshFailures), CreateFailures: o(l.CreateFailures),
		AdminFailures: o(l.AdminFailures),
	}
}

// rlArg and lfArg are the JSON forms lib.lua reads (A.rl, A.lf).
type rlArg struct {
	Rule string `json:"r"`
	Key  string `json:"k"`
	N    int    `json:"n"`
	W    int64  `json:"w"`
}

type lfArg struct {
	Rule string  `json:"r"`
	Key  string  `json:"k"`
	Th   int     `json:"th"`
	B    int64   `json:"b"`
	C    int64   `json:"c"`
	J    float64 `json:"j"`
}

// rules collects the checks of one operation; rules that are off or have
// no key (an unknown IP) are left out.
type rules struct {
	rl []rlArg
	lf []lfArg
}

func (rs *rules) limit(name string, r Rule, key string) {
	if r.Limit <= 0 || key == "" {
		return
	}
	rs.rl = append(rs.rl, rlArg{Rule: name, Key: name + ":" + key, N: r.Limit, W: r.Window.Milliseconds()})
}

func (rs *rules) lockout(name string, o Lockout, key string, jitter float64) {
	if o.Threshold <= 0 || key == "" {
		return
	}
	rs.lf = append(rs.lf, lfArg{Rule: name, Key: name + ":" + key, Th: o.Threshold,
		B: o.Base.Milliseconds(), C: o.Cap.Milliseconds(), J: jitter})
}

func randFloat() float64 { return rand.Float64() }
