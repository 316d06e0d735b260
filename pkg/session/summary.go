package session

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strconv"
	"time"

	"github.com/sessionkit/sessiond/pkg/kv"
)

// Summary is the security overview of a time window (GET
// /api/security/summary).
type Summary struct {
	Window            string           `json:"window"`
	From              time.Time        `json:"from"`
	To                time.Time        `json:"to"`
	Actions           map[string]int   `json:"actions"`            // audit events by action
	ActiveSessions    int64            `json:"active_sessions"`    // live, not suspended
	SuspendedSessions int64            `json:"suspended_sessions"` // awaiting resume or end
	Refusals          map[string]int   `json:"refusals"`           // refused requests by reason
	RateLimitedKeys   int              `json:"rate_limited_keys"`  // distinct keys that hit a limit or lockout
	Suspicious        []SuspiciousUser `json:"suspicious"`         // users whose pattern stands out
	EventsScanned     int              `json:"events_scanned"`     // how many events were read
	Truncated         bool             `json:"truncated"`          // the window held more than MaxSummaryEvents
}

// SuspiciousUser is a user whose events in the window match a pattern of
// account abuse.
type SuspiciousUser struct {
	UserID  string   `json:"user_id"`
	Reasons []string `json:"reasons"`
}

// Thresholds of the suspicious patterns, per user and window.
const (
	// MaxSummaryEvents bounds the events one summary reads.
	MaxSummaryEvents    = 20000
	suspiciousCreations = 10 // many sessions created
	suspiciousNetworks  = 4  // many distinct /16 (IPv4) or /32 (IPv6) prefixes
	suspiciousReuse     = 2  // repeated refresh-token reuse
	suspiciousHijacks   = 1  // any hijack suspicion
)

// Summary reads the audit trail of the last window and the live and
// suspended session sets in one KV round trip (a pipeline of reads).
func (m *Manager) Summary(ctx context.Context, window time.Duration) (*Summary, error) {
	if window <= 0 || window > m.cfg.AuditRetention {
		return nil, &InvalidRequestError{Field: "window", Reason: "must be positive and at most the audit retention"}
	}
	now := m.cfg.Now()
	from := now.Add(-window)
	p := m.cfg.KeyPrefix
	rs, err := m.kv.Pipeline(ctx,
		[]any{"XREVRANGE", p + "a", "+", strconv.FormatInt(from.UnixMilli(), 10), "COUNT", MaxSummaryEvents},
		[]any{"ZCOUNT", p + "live", strconv.FormatInt(now.UnixMilli(), 10), "+inf"},
		[]any{"ZCARD", p + "susp"},
	)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.Err != nil && !errors.Is(r.Err, kv.ErrNotFound) {
			return nil, r.Err
		}
	}
	s := &Summary{Window: window.String(), From: from.UTC(), To: now.UTC(),
		Actions: map[string]int{}, Refusals: map[string]int{}, Suspicious: []SuspiciousUser{}}
	susp, _ := rs[2].Val.(int64)
	live, _ := rs[1].Val.(int64)
	s.SuspendedSessions = susp
	s.ActiveSessions = max(0, live-susp)
	entries, _ := rs[0].Val.([]any)
	s.EventsScanned = len(entries)
	s.Truncated = len(entries) == MaxSummaryEvents

	type userStats struct {
		created, reuse, hijack int
		nets                   map[string]bool
	}
	users := map[string]*userStats{}
	limited := map[string]bool{}
	for _, e := range entries {
		ev, ok := decodeEvent(e)
		if !ok {
			continue
		}
		s.Actions[ev.Action]++
		// Only these actions' details are read: decoding every event's
		// JSON would be most of a summary's time.
		var d struct {
			Reason string `json:"reason"`
			Key    string `json:"key"`
		}
		switch ev.Action {
		case ActionTokenReuseDetected, ActionHijackSuspected, ActionUpstreamRefreshFailed:
			s.Refusals[ev.Action]++
		case ActionTokenIntrospectedInact:
			_ = json.Unmarshal(ev.Details, &d)
			s.Refusals["introspection:"+d.Reason]++
		case ActionRateLimitExceeded, ActionRateLimitLockout:
			_ = json.Unmarshal(ev.Details, &d)
			s.Refusals[ev.Action]++
			limited[d.Key] = true
		}
		if ev.UserID == nil {
			continue
		}
		u := users[*ev.UserID]
		if u == nil {
			u = &userStats{nets: map[string]bool{}}
			users[*ev.UserID] = u
		}
		switch ev.Action {
		case ActionSessionCreated:
			u.created++
			if ev.IP != nil {
				if ip, err := netip.ParseAddr(*ev.IP); err == nil {
					bits := 32
					if ip.Unmap().Is4() {
						bits = 16
					}
					if pfx, err := ip.Unmap().Prefix(bits); err == nil {
						u.nets[pfx.String()] = true
					}
				}
			}
		case ActionTokenReuseDetected:
			u.reuse++
		case ActionHijackSuspected:
			u.hijack++
		}
	}
	s.RateLimitedKeys = len(limited)
	for uid, u := range users {
		var why []string
		if u.created >= suspiciousCreations {
			why = append(why, "many_sessions_created")
		}
		if len(u.nets) >= suspiciousNetworks {
			why = append(why, "many_networks")
		}
		if u.reuse >= suspiciousReuse {
			why = append(why, "repeated_token_reuse")
		}
		if u.hijack >= suspiciousHijacks {
			why = append(why, "hijack_suspected")
		}
		if len(why) > 0 {
			s.Suspicious = append(s.Suspicious, SuspiciousUser{UserID: uid, Reasons: why})
		}
	}
	return s, nil
}
