package session

import (
	"net/netip"
	"time"
)

// State is where a session is in its life. Only active sessions may be
// refreshed. The allowed transitions (anything else is refused):
//
//	active    -> idle        (no refresh or use for IdleTimeout; terminal)
//	active    -> expired     (AbsoluteTimeout after creation; terminal)
//	active    -> suspended   (risk score at or above RiskBlock on a refresh)
//	active    -> revoked     (logout, revoke, refresh-token reuse, admin)
//	active    -> terminated  (evicted by the per-user limit, upstream invalid_grant)
//	suspended -> active      (resumed by an admin or another session of the user)
//	suspended -> revoked / terminated / expired / idle
//
// idle, expired, revoked and terminated are ended states: the session's
// access tokens are inactive at once and its refresh token is refused.
type State string

const (
	StateActive     State = "active"
	StateIdle       State = "idle"
	StateExpired    State = "expired"
	StateRevoked    State = "revoked"
	StateSuspended  State = "suspended"
	StateTerminated State = "terminated"
)

// Ended reports whether s is a final state.
func (s State) Ended() bool {
	switch s {
	case StateIdle, StateExpired, StateRevoked, StateTerminated:
		return true
	}
	return false
}

// Client describes who sent a request, as the HTTP layer established it.
// IP is the zero Addr when unknown. Nothing here is trusted for
// authorization; it feeds rate limits, hijack detection and the audit.
type Client struct {
	IP        netip.Addr
	UserAgent string
}

// Session is the public view of one session, as listed and returned.
type Session struct {
	ID             string            `json:"session_id"`
	UserID         string            `json:"user_id"`
	State          State             `json:"state"`
	CreatedAt      time.Time         `json:"created_at"`
	LastActiveAt   time.Time         `json:"last_active_at"`
	ExpiresAt      time.Time         `json:"expires_at"`          // the earlier of the idle and absolute deadlines
	AbsoluteExpiry time.Time         `json:"absolute_expires_at"` // creation + AbsoluteTimeout
	IP             string            `json:"ip"`
	Device         *Device           `json:"device"`
	Metadata       map[string]string `json:"metadata"`
	RiskScore      float64           `json:"risk_score"`
	Generation     uint32            `json:"generation"` // refresh-token rotations so far
	Current        bool              `json:"current"`    // the caller's own session (List only)
	UpstreamExpiry *time.Time        `json:"upstream_expires_at,omitempty"`
	EndedReason    string            `json:"ended_reason,omitempty"`
	SuspendedAt    *time.Time        `json:"suspended_at,omitempty"`
}

// Issued is what Create and Refresh hand back: a new access token and the
// session's current refresh token.
type Issued struct {
	Session          Session
	AccessToken      string
	ExpiresIn        int // seconds until AccessToken expires
	RefreshToken     string
	RefreshExpiresIn int    // seconds until the session's idle or absolute deadline, whichever is first
	Scope            string // upstream scope, when known
}
