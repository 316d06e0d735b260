package session

import (
	"context"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/sessionkit/sessiond/pkg/token"
)

// Introspection is the answer to an RFC 7662 introspection request. When
// Active is false it marshals to exactly {"active":false}: RFC 7662 §2.2
// lets the server say no more, and saying more would tell a caller why.
type Introspection struct {
	Active    bool
	TokenType string // "access_token" or "refresh_token"
	Subject   string
	SessionID string
	JTI       string
	Issuer    string
	Audience  string
	IssuedAt  int64 // Unix seconds
	ExpiresAt int64 // Unix seconds
	Scope     string
	RiskScore float64 // the session's last risk score (not in the JSON)
}

var inactiveJSON = []byte(`{"active":false}`)

// MarshalJSON writes the RFC 7662 response (see AppendJSON).
func (i *Introspection) MarshalJSON() ([]byte, error) {
	return i.AppendJSON(nil), nil
}

// AppendJSON appends the RFC 7662 response to b: exactly {"active":false}
// when not active, else active, token_type, sub, sid, jti, iss, aud, iat,
// exp and scope (when not empty), in that order. It writes the bytes
// encoding/json would, without reflection (the HTTP layer answers every
// introspection with it).
func (i *Introspection) AppendJSON(b []byte) []byte {
	if i == nil || !i.Active {
		return append(b, inactiveJSON...)
	}
	w := jw{b: b}
	w.open()
	w.bool("active", true)
	w.str("token_type", i.TokenType)
	w.str("sub", i.Subject)
	w.str("sid", i.SessionID)
	w.str("jti", i.JTI)
	w.str("iss", i.Issuer)
	w.str("aud", i.Audience)
	w.int("iat", i.IssuedAt)
	w.int("exp", i.ExpiresAt)
	w.strOmit("scope", i.Scope)
	w.close()
	return w.b
}

// IntrospectRequest says who introspects and, optionally, on behalf of
// which end-user request.
type IntrospectRequest struct {
	// Caller is a stable, non-secret id of the calling resource server's key
	// (e.g. a hash prefix); introspection is rate limited per caller.
	Caller string
	// Client is the resource server's own connection, for the audit.
	Client Client
	// EndUser, when the resource server passes the end user's IP and user
	// agent, has the request judged for hijacking like a refresh (without
	// the cadence signal); at or above RiskBlock the session is suspended.
	EndUser *Client
}

type checkArgs struct {
	base
	Sub   string  `json:"sub,omitempty"`
	JTI   string  `json:"jti,omitempty"`
	RT    bool    `json:"rt,omitempty"`
	RGen  uint32  `json:"rgen"`
	RH    string  `json:"rh,omitempty"`
	AI    bool    `json:"ai,omitempty"`
	HJ    bool    `json:"hj,omitempty"`
	Block float64 `json:"block"`
	riskArgs
}

// Introspect answers whether tok is active (RFC 7662): an access token
// whose signature, times, session and own revocation status all say so, or
// a refresh token that is its session's current one. It costs one KV round
// trip, and never answers from a cache: a revocation is visible on the
// very next call, on every instance. Every inactive answer is the same
// {"active": false}; the audit records why (token.introspected_inactive).
//
// Errors are only *RateLimitError and store failures; a bad token is an
// inactive answer, not an error.
func (m *Manager) Introspect(ctx context.Context, tok string, q IntrospectRequest) (*Introspection, error) {
	now := m.cfg.Now()
	var rs rules
	rs.limit("introspect.caller", m.cfg.Limits.IntrospectPerCaller, q.Caller)
	c := q.Client
	if q.EndUser != nil {
		c = *q.EndUser
	}
	a := checkArgs{base: m.base(now, c, "resource_server", rs), AI: true, Block: m.cfg.RiskBlock}
	out := &Introspection{Issuer: m.cfg.Signer.Issuer(), Audience: m.cfg.Signer.Audience()}
	if strings.HasPrefix(tok, token.RefreshPrefix) {
		r, err := m.cfg.RefreshKeys.Parse(tok)
		if err != nil {
			return &Introspection{}, nil
		}
		a.SID, a.RT, a.RGen, a.RH = uuid.UUID(r.SessionID).String(), true, r.Gen, token.Hash(r)
		out.TokenType, out.SessionID = "refresh_token", a.SID
		out.JTI = token.Hash(r)[:22]
	} else {
		claims, err := m.cfg.Verifier.Verify(tok)
		if err != nil {
			return &Introspection{}, nil
		}
		a.SID, a.Sub, a.JTI = claims.SessionID, claims.Subject, claims.JTI
		out.TokenType, out.SessionID, out.Subject, out.JTI = "access_token", claims.SessionID, claims.Subject, claims.JTI
		out.IssuedAt, out.ExpiresAt, out.Scope = claims.IssuedAt.Unix(), claims.ExpiresAt.Unix(), claims.Scope
	}
	if q.EndUser != nil {
		a.HJ = true
		a.riskArgs = m.riskArgs(*q.EndUser, nil)
		a.Cad = 1 << 30 // introspections are not refreshes: no cadence signal
	}
	reply, err := m.run(ctx, scriptCheck, &a)
	if err != nil {
		return nil, err
	}
	if str(reply, 0) != "active" {
		return &Introspection{}, nil
	}
	out.Active = true
	out.RiskScore, _ = strconv.ParseFloat(str(reply, 2), 64)
	if out.TokenType == "refresh_token" {
		// The subject is the session's user; the refresh token is good
		// until the session's deadline, and was issued at its rotation.
		out.Subject = str(reply, 6)
		out.Scope = str(reply, 3)
		out.IssuedAt = num(reply, 4) / 1000
		out.ExpiresAt = num(reply, 5) / 1000
	}
	return out, nil
}

// Authenticate checks an access token presented as a bearer credential:
// signature, times, its session live and the token not revoked, in one KV
// round trip. It returns the token's claims, or ErrUnauthorized.
func (m *Manager) Authenticate(ctx context.Context, accessToken string, c Client) (*token.AccessClaims, error) {
	claims, err := m.cfg.Verifier.Verify(accessToken)
	if err != nil {
		return nil, ErrUnauthorized
	}
	a := checkArgs{base: m.base(m.cfg.Now(), c, "user", rules{}), Sub: claims.Subject, JTI: claims.JTI, Block: m.cfg.RiskBlock}
	a.SID = claims.SessionID
	reply, err := m.run(ctx, scriptCheck, &a)
	if err != nil {
		return nil, err
	}
	if str(reply, 0) != "active" {
		return nil, ErrUnauthorized
	}
	return claims, nil
}
