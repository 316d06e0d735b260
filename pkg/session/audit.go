package session

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/sessiond/pkg/kv"
)

// The audit actions the Manager writes. Each state change writes its event
// in the same atomic script as the change itself, so the trail can neither
// miss a change nor record one that did not happen.
const (
	ActionSessionCreated         = "session.created"
	ActionSessionRefreshed       = "session.refreshed"
	ActionSessionIdleExpired     = "session.idle_expired"
	ActionSessionAbsoluteExpired = "session.absolute_expired"
	ActionSessionRevoked         = "session.revoked"
	ActionSessionEvictedLimit    = "session.evicted_limit"
	ActionSessionSuspended       = "session.suspended"
	ActionSessionResumed         = "session.resumed"
	ActionSessionListed          = "session.listed"
	ActionSessionMetadataUpdated = "session.metadata_updated"
	ActionTokenIssued            = "token.issued"
	ActionTokenRotated           = "token.rotated"
	ActionTokenReuseDetected     = "token.reuse_detected"
	ActionTokenRevoked           = "token.revoked"
	ActionTokenIntrospectedInact = "token.introspected_inactive"
	ActionUpstreamRefreshed      = "upstream.refreshed"
	ActionUpstreamRefreshFailed  = "upstream.refresh_failed"
	ActionUpstreamRotated        = "upstream.rotated"
	ActionUpstreamIntrospected   = "upstream.introspected"
	ActionDeviceMismatch         = "device.mismatch"
	ActionIPChanged              = "ip.changed"
	ActionHijackSuspected        = "hijack.suspected"
	ActionRateLimitExceeded      = "rate_limit.exceeded"
	ActionRateLimitLockout       = "rate_limit.lockout"
	ActionUserSessionsRevoked    = "user.sessions_revoked"
	ActionAdminAction            = "admin.action"
	ActionCronCleanup            = "cron.cleanup"
)

// AuditEvent is one entry of the audit trail. Every field is present in
// its JSON; unknown ones are null.
type AuditEvent struct {
	ID        string          `json:"id"` // the stream id: time-ordered, usable as a cursor
	Time      time.Time       `json:"time"`
	Action    string          `json:"action"`
	Actor     *string         `json:"actor"`
	UserID    *string         `json:"user_id"`
	SessionID *string         `json:"session_id"`
	IP        *string         `json:"ip"`
	UserAgent *string         `json:"user_agent"`
	RiskScore *float64        `json:"risk_score"`
	Details   json.RawMessage `json:"details"`
}

// AuditQuery selects events: of a user, of a session, or all; newest
// first, Limit of them (1 to 500, default 50), older than the cursor Before
// (the ID of the last event of the previous page).
type AuditQuery struct {
	UserID    string
	SessionID string
	Limit     int
	Before    string
}

// AuditPage is one page of events; Next is the cursor of the following
// page, nil on the last one.
type AuditPage struct {
	Events []AuditEvent `json:"events"`
	Next   *string      `json:"next"`
}

// parseStreamID reads a stream id "<ms>-<seq>", both parts uint64, as
// Redis does; anything else is not a cursor we handed out.
func parseStreamID(id string) (ms, seq uint64, ok bool) {
	a, b, found := strings.Cut(id, "-")
	if !found || a == "" || b == "" || a[0] == '+' || b[0] == '+' {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return ms, seq, err1 == nil && err2 == nil
}

// Audit returns one page of the audit trail in one KV round trip.
func (m *Manager) Audit(ctx context.Context, q AuditQuery) (*AuditPage, error) {
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 500 {
		return nil, &InvalidRequestError{Field: "limit", Reason: "must be between 1 and 500"}
	}
	end := "+"
	if q.Before != "" {
		ms, seq, ok := parseStreamID(q.Before)
		if !ok {
			return nil, &InvalidRequestError{Field: "before", Reason: "is not a cursor from a previous page"}
		}
		if ms == 0 && seq == 0 {
			return &AuditPage{Events: []AuditEvent{}}, nil // nothing is older than the first possible id
		}
		end = "(" + q.Before
	}
	key := m.cfg.KeyPrefix + "a"
	switch {
	case q.SessionID != "":
		key = m.cfg.KeyPrefix + "a:s:" + q.SessionID
	case q.UserID != "":
		if err := validUserID(q.UserID); err != nil {
			return nil, err
		}
		key = m.cfg.KeyPrefix + "a:u:" + q.UserID
	}
	// With both a user and a session, read the session's stream and keep
	// that user's events: a page may then hold fewer than Limit.
	v, err := m.kv.Do(ctx, "XREVRANGE", key, end, "-", "COUNT", q.Limit)
	if err != nil && !errors.Is(err, kv.ErrNotFound) {
		return nil, err
	}
	entries, _ := v.([]any)
	page := &AuditPage{Events: make([]AuditEvent, 0, len(entries))}
	for _, e := range entries {
		ev, ok := decodeEvent(e)
		if !ok {
			continue
		}
		if q.UserID != "" && q.SessionID != "" && (ev.UserID == nil || *ev.UserID != q.UserID) {
			continue
		}
		page.Events = append(page.Events, ev)
	}
	if len(entries) == q.Limit {
		last, _ := entries[len(entries)-1].([]any)
		next := str(last, 0)
		page.Next = &next
	}
	return page, nil
}

// decodeEvent reads one XRANGE entry: [id, [field, value, ...]].
func decodeEvent(e any) (AuditEvent, bool) {
	pair, _ := e.([]any)
	if len(pair) != 2 {
		return AuditEvent{}, false
	}
	f := fields(pair[1])
	opt := func(k string) *string {
		if v := f[k]; v != "" {
			return &v
		}
		return nil
	}
	t, _ := strconv.ParseInt(f["t"], 10, 64)
	ev := AuditEvent{
		ID: str(pair, 0), Time: ms(t), Action: f["act"], Actor: opt("actor"),
		UserID: opt("uid"), SessionID: opt("sid"), IP: opt("ip"), UserAgent: opt("ua"),
		Details: json.RawMessage("null"),
	}
	if r, err := strconv.ParseFloat(f["risk"], 64); err == nil {
		ev.RiskScore = &r
	}
	if d := f["d"]; d != "" && json.Valid([]byte(d)) {
		if d == "[]" { // an empty Lua table encodes as an array
			d = "{}"
		}
		ev.Details = json.RawMessage(d)
	}
	return ev, true
}
