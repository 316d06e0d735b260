package upstream

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Identity is what a verified ID token says about the user. Subject is the
// user id the session service uses (SPEC: "the user is the upstream sub").
type Identity struct {
	Issuer            string
	Subject           string
	Email             string // empty unless the provider sent it
	EmailVerified     bool
	Name              string
	PreferredUsername string
	// SessionID is the provider's own session id ("sid", OpenID Connect
	// Front-/Back-Channel Logout), empty when not sent.
	SessionID string
	AuthTime  time.Time // zero when not sent
	IssuedAt  time.Time
	Expiry    time.Time // of the ID token, not of the session
}

// maxSubject is the longest sub OpenID Connect Core §2 allows.
const maxSubject = 255

// VerifyIDToken checks rawIDToken against the provider: a JWS signed with
// one of the algorithms its discovery document publishes (never "none" or
// HMAC), by a key of its JWKS, with iss equal to Config.Issuer, aud
// containing Config.ClientID (and azp, when present, equal to it), not
// expired by Config.Now, not before nbf (go-oidc allows 5 minutes of skew),
// a non-empty sub, and, when nonce is not empty, the same nonce claim
// (compared in constant time). Refusals are ErrInvalidToken; a provider
// whose discovery or JWKS cannot be fetched is ErrUnavailable.
func (p *Provider) VerifyIDToken(ctx context.Context, rawIDToken, nonce string) (Identity, error) {
	if p == nil {
		return Identity{}, ErrNotConfigured
	}
	ctx, cancel := p.opContext(ctx)
	defer cancel()
	s, err := p.current(ctx)
	if err != nil {
		return Identity{}, err
	}
	return p.verify(ctx, s, rawIDToken, nonce)
}

func (p *Provider) verify(ctx context.Context, s *state, raw, nonce string) (Identity, error) {
	if len(s.algs) == 0 {
		// A provider problem, not the user's: no token of it can be checked.
		return Identity{}, unavailable(0, "the provider publishes no ID token signing algorithm we verify (only HMAC or none?)")
	}
	if raw == "" {
		return Identity{}, fmt.Errorf("%w: empty", ErrInvalidToken)
	}
	if len(raw) > maxBody {
		return Identity{}, fmt.Errorf("%w: too large", ErrInvalidToken)
	}
	pctx, probe := withProbe(ctx)
	tok, err := s.verifier.Verify(pctx, raw)
	if err != nil {
		if probe.fetchErr != nil {
			return Identity{}, unavailable(0, "jwks: %v", probe.fetchErr)
		}
		if ctx.Err() != nil {
			return Identity{}, unavailable(0, "jwks: %v", ctx.Err())
		}
		return Identity{}, fmt.Errorf("%w: %s", ErrInvalidToken, verifyReason(err))
	}
	// Optional claims of unexpected types are ignored, not fatal: a
	// provider sending auth_time as a string should not lock users out.
	var c map[string]any
	if err := tok.Claims(&c); err != nil {
		return Identity{}, fmt.Errorf("%w: malformed claims", ErrInvalidToken)
	}
	azp, _ := c["azp"].(string)
	switch {
	case tok.Subject == "" || len(tok.Subject) > maxSubject:
		return Identity{}, fmt.Errorf("%w: missing or overlong sub", ErrInvalidToken)
	case azp != "" && azp != p.cfg.ClientID:
		// OpenID Connect Core §3.1.3.7 (5): a token authorized for another
		// client is not ours even if we are among its audiences.
		return Identity{}, fmt.Errorf("%w: azp is another client", ErrInvalidToken)
	case nonce != "" && subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(nonce)) != 1:
		return Identity{}, fmt.Errorf("%w: nonce mismatch", ErrInvalidToken)
	}
	id := Identity{
		Issuer:            tok.Issuer,
		Subject:           tok.Subject,
		Email:             claimString(c, "email"),
		EmailVerified:     claimBool(c, "email_verified"),
		Name:              claimString(c, "name"),
		PreferredUsername: claimString(c, "preferred_username"),
		SessionID:         claimString(c, "sid"),
		IssuedAt:          tok.IssuedAt,
		Expiry:            tok.Expiry,
	}
	if at, ok := c["auth_time"].(float64); ok && at > 0 && at < maxUnix {
		id.AuthTime = time.Unix(int64(at), 0).UTC()
	}
	return id, nil
}

// verifyReason names why go-oidc refused a token, in words of our own: its
// messages are safe today, but a fixed vocabulary keeps anything the token
// carried out of our errors whatever a future version prints.
func verifyReason(err error) string {
	var exp *oidc.TokenExpiredError
	if errors.As(err, &exp) {
		return "expired"
	}
	msg := err.Error()
	for _, r := range []struct{ needle, reason string }{
		{"malformed jwt", "malformed or signed with an algorithm the provider does not publish"},
		{"failed to verify signature", "signature not verified (unknown key or bad signature)"},
		{"different provider", "issuer mismatch"},
		{"expected audience", "audience mismatch"},
		{"nbf", "not yet valid"},
		{"unmarshal claims", "malformed claims"},
	} {
		if strings.Contains(msg, r.needle) {
			return r.reason
		}
	}
	return "refused"
}

func claimString(c map[string]any, name string) string {
	v, _ := c[name].(string)
	return v
}

// claimBool accepts true and "true": some providers (Amazon Cognito among
// them) send email_verified as a string.
func claimBool(c map[string]any, name string) bool {
	switch v := c[name].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}
