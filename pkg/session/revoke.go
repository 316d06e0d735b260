package session

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/sessionkit/sessiond/pkg/token"
)

type endArgs struct {
	base
	Mode   string   `json:"mode"`
	IDs    []string `json:"ids,omitempty"`
	Owner  string   `json:"owner,omitempty"`
	Reason string   `json:"reason"`
	State  string   `json:"state,omitempty"`
	Action string   `json:"action,omitempty"`
	Note   string   `json:"note,omitempty"`
	Gen    uint32   `json:"gen"`
	H      string   `json:"h,omitempty"`
}

type revokeAccessArgs struct {
	base
	JTI string `json:"jti"`
	Sub string `json:"sub"`
	TTL int64  `json:"ttl"`
}

// Revoke is RFC 7009 token revocation: holding the token is the authority.
// A refresh token ends its session (and with it, at once, every access
// token of the session); an access token goes on the revocation list until
// it would have expired. hint ("access_token" or "refresh_token") is only
// a hint: a wrong or unknown one is ignored and the other kind tried.
//
// An unknown, malformed, expired or already revoked token is not an error
// (RFC 7009 §2.2: the server responds 200 either way). The error is
// non-nil only when the store could not confirm the revocation (wrapping
// kv.ErrUnavailable) or a rate limit refused it.
func (m *Manager) Revoke(ctx context.Context, tok, hint string, c Client) error {
	now := m.cfg.Now()
	var rs rules
	rs.limit("revoke.ip", m.cfg.Limits.RevokePerIP, ipKey(c))
	// The token's shape says what it is; the hint only orders the tries.
	if strings.HasPrefix(tok, token.RefreshPrefix) || hint == "refresh_token" {
		if r, err := m.cfg.RefreshKeys.Parse(tok); err == nil {
			a := endArgs{base: m.base(now, c, "user", rs), Mode: "refresh",
				IDs: []string{uuid.UUID(r.SessionID).String()}, Reason: "revoked", Gen: r.Gen, H: token.Hash(r)}
			return m.end(ctx, a, nil)
		}
	}
	claims, err := m.cfg.Verifier.Verify(tok)
	if err != nil {
		return nil // not a token we can attribute: nothing to revoke
	}
	ttl := claims.ExpiresAt.Sub(now)
	if ttl <= 0 {
		return nil
	}
	a := revokeAccessArgs{base: m.base(now, c, "user", rs), JTI: claims.JTI, Sub: claims.Subject, TTL: ttl.Milliseconds() + 1000}
	a.SID, a.UID = claims.SessionID, claims.Subject
	_, err = m.run(ctx, scriptRevokeAccess, a)
	return err
}

// End ends one session. ownerUserID is the user the caller acts as: a
// session of another user is ErrNotFound, like a missing one. An empty
// ownerUserID is the admin, who may end any session.
func (m *Manager) End(ctx context.Context, sessionID, ownerUserID string, c Client) error {
	if _, err := uuid.Parse(sessionID); err != nil {
		return ErrNotFound
	}
	actor := "user"
	if ownerUserID == "" {
		actor = "admin"
	}
	var n int
	a := endArgs{base: m.base(m.cfg.Now(), c, actor, rules{}), Mode: "ids", IDs: []string{sessionID}, Owner: ownerUserID, Reason: "logout"}
	if actor == "admin" {
		a.Reason = "admin"
	}
	if err := m.end(ctx, a, &n); err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// MaxBatch is the most session ids RevokeSessions takes at once.
const MaxBatch = 100

// RevokeSessions ends the given sessions (admin) and returns how many were
// live. Unknown and malformed ids are skipped.
func (m *Manager) RevokeSessions(ctx context.Context, ids []string, c Client) (int, error) {
	if len(ids) > MaxBatch {
		return 0, &InvalidRequestError{Field: "session_ids", Reason: "has more than 100 entries"}
	}
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, err := uuid.Parse(id); err == nil {
			valid = append(valid, id)
		}
	}
	var n int
	a := endArgs{base: m.base(m.cfg.Now(), c, "admin", rules{}), Mode: "ids", IDs: valid, Reason: "admin"}
	err := m.end(ctx, a, &n)
	return n, err
}

// RevokeUser ends every live session of a user ("log out everywhere") in
// one atomic step and returns how many there were.
func (m *Manager) RevokeUser(ctx context.Context, userID string, c Client) (int, error) {
	if err := validUserID(userID); err != nil {
		return 0, err
	}
	var n int
	a := endArgs{base: m.base(m.cfg.Now(), c, "admin", rules{}), Mode: "user", Owner: userID, Reason: "logout_everywhere"}
	err := m.end(ctx, a, &n)
	return n, err
}

// end runs end.lua, then revokes the ended sessions' upstream tokens at the
// provider, best effort: the local revocation has already happened and is
// what counts.
func (m *Manager) end(ctx context.Context, a endArgs, n *int) error {
	reply, err := m.run(ctx, scriptEnd, a)
	if err != nil {
		return err
	}
	if n != nil {
		*n = int(num(reply, 1))
	}
	if m.cfg.Upstream == nil || len(reply) <= 2 {
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.UpstreamRevokeTimeout)
	defer cancel()
	for _, e := range reply[2:] {
		pair, _ := e.([]any)
		if len(pair) != 2 {
			continue
		}
		m.revokeUpstream(rctx, str(pair, 0), str(pair, 1))
	}
	return nil
}
