package session

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors returned by the Manager. Callers check them with
// errors.Is; the HTTP layer maps each to one status code. Their text never
// contains a token, a secret or which check failed on a refresh token.
var (
	// ErrInvalidGrant is returned by Refresh for a refresh token that is
	// unknown, malformed, expired, revoked, reused or whose session is
	// suspended: one error whatever the reason, so a caller learns nothing
	// about which (RFC 6749 §5.2 invalid_grant). The reason is in the audit.
	ErrInvalidGrant = errors.New("session: invalid grant")

	// ErrNotFound is returned for a session that does not exist, has ended,
	// or belongs to another user than the caller (the two are not told
	// apart, so session ids of other users cannot be probed).
	ErrNotFound = errors.New("session: not found")

	// ErrUnauthorized is returned by Authenticate for an access token that
	// is not active: bad signature, expired, revoked, or its session ended.
	ErrUnauthorized = errors.New("session: unauthorized")

	// ErrForbidden is returned when the caller is authenticated but may
	// not do this (e.g. resuming a suspended session from that very session).
	ErrForbidden = errors.New("session: forbidden")
)

// InvalidRequestError is returned for input the Manager refuses before any
// state change: a metadata patch over the limits, a bad user id, a device
// fingerprint field with the wrong type. Its text is safe to show a caller.
type InvalidRequestError struct {
	Field  string // the offending input, e.g. "metadata" or "device.screen_width"
	Reason string // what is wrong with it
}

func (e *InvalidRequestError) Error() string {
	return fmt.Sprintf("session: invalid %s: %s", e.Field, e.Reason)
}

// RateLimitError is returned when a rate limit or a failure lockout refused
// the operation before it ran. Nothing was changed.
type RateLimitError struct {
	Rule       string        // the rule that refused, e.g. "refresh.ip"
	RetryAfter time.Duration // when the same caller may try again (>= 1s)
	Lockout    bool          // true when it is a lockout after repeated failures
}

func (e *RateLimitError) Error() string {
	if e.Lockout {
		return fmt.Sprintf("session: locked out by %s for %s", e.Rule, e.RetryAfter)
	}
	return fmt.Sprintf("session: rate limited by %s for %s", e.Rule, e.RetryAfter)
}
