package token

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Signer issues access tokens: RFC 9068 JWTs signed with Ed25519 (alg
// EdDSA). It is built once per process from the configuration and is safe
// for concurrent use; it holds no mutable state.
//
// Signing is a pure function of the claims: Ed25519 signatures are
// deterministic (RFC 8032 §5.1.6) and the header and payload are serialised
// in a fixed order, so the same AccessClaims always give the byte-identical
// token. The session core relies on this to hand a racing second refresh
// request the very same access token as the first, without storing it.
type Signer struct {
	key      ed25519.PrivateKey
	kid      string
	issuer   string
	audience audience
	ttl      time.Duration
}

// NewSigner returns a Signer for key that writes iss = issuer and aud = aud
// (as a single string), and gives tokens without an explicit expiry the
// lifetime ttl. The header's kid is KeyID of key's public half.
func NewSigner(key ed25519.PrivateKey, issuer, aud string, ttl time.Duration) (*Signer, error) {
	switch {
	case len(key) != ed25519.PrivateKeySize:
		return nil, fmt.Errorf("%w: signing key is not an Ed25519 private key", ErrKey)
	case issuer == "":
		return nil, fmt.Errorf("%w: empty issuer", ErrClaims)
	case aud == "":
		return nil, fmt.Errorf("%w: empty audience", ErrClaims)
	case ttl <= 0:
		return nil, fmt.Errorf("%w: token lifetime must be positive", ErrClaims)
	}
	pub := key.Public().(ed25519.PublicKey)
	return &Signer{key: key, kid: KeyID(pub), issuer: issuer, audience: audience{aud}, ttl: ttl}, nil
}

// KeyID returns the kid written in every token's header.
func (s *Signer) KeyID() string { return s.kid }

// PublicKey returns the public half of the signing key.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// TTL returns the lifetime given to tokens whose ExpiresAt is zero.
func (s *Signer) TTL() time.Duration { return s.ttl }

// Sign returns the compact JWS of an access token with header
// {"alg":"EdDSA","kid":...,"typ":"at+jwt"} and claims
// iss aud sub sid jti iat exp (+scope when not empty), in that order.
//
// Subject, SessionID, JTI and IssuedAt are required (there is no clock in
// here on purpose: the caller's clock decides iat, which keeps Sign
// deterministic). A zero ExpiresAt means IssuedAt + TTL. Times are truncated
// to whole seconds. Errors wrap ErrClaims.
func (s *Signer) Sign(c AccessClaims) (string, error) {
	if c.Subject == "" || c.SessionID == "" || c.JTI == "" {
		return "", fmt.Errorf("%w: sub, sid and jti are required", ErrClaims)
	}
	if c.IssuedAt.IsZero() {
		return "", fmt.Errorf("%w: iat is required", ErrClaims)
	}
	iat := c.IssuedAt.Truncate(time.Second)
	exp := c.ExpiresAt.Truncate(time.Second)
	if c.ExpiresAt.IsZero() {
		exp = iat.Add(s.ttl).Truncate(time.Second)
	}
	if !exp.After(iat) {
		return "", fmt.Errorf("%w: exp must be after iat", ErrClaims)
	}
	t := &jwt.Token{
		// encoding/json writes map keys sorted: alg, kid, typ.
		Header: map[string]any{"alg": jwt.SigningMethodEdDSA.Alg(), "kid": s.kid, "typ": "at+jwt"},
		Claims: &wireClaims{
			Issuer:    s.issuer,
			Audience:  s.audience,
			Subject:   c.Subject,
			SessionID: c.SessionID,
			ID:        c.JTI,
			IssuedAt:  jwt.NewNumericDate(iat),
			ExpiresAt: jwt.NewNumericDate(exp),
			Scope:     c.Scope,
		},
		Method: jwt.SigningMethodEdDSA,
	}
	out, err := t.SignedString(s.key)
	if err != nil {
		// Unreachable with a valid key; keep golang-jwt's text out regardless.
		return "", fmt.Errorf("%w: signing failed", ErrKey)
	}
	return out, nil
}
