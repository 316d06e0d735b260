package token

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sessionkit/sessiond/internal/jsonenc"
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

	// header is the first segment and its dot: the base64url of
	// {"alg":"EdDSA","kid":...,"typ":"at+jwt"}. claimsHead is the claims
	// object up to sub's value: {"iss":...,"aud":...,"sub":
	header     string
	claimsHead string
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
	s := &Signer{key: key, kid: KeyID(pub), issuer: issuer, audience: audience{aud}, ttl: ttl}
	// encoding/json writes map keys sorted: alg, kid, typ (golang-jwt
	// marshals its header map the same way).
	h, err := json.Marshal(map[string]string{"alg": jwt.SigningMethodEdDSA.Alg(), "kid": s.kid, "typ": "at+jwt"})
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrKey, err)
	}
	s.header = base64.RawURLEncoding.EncodeToString(h) + "."
	ch := append([]byte(`{"iss":`), jsonenc.AppendString(nil, issuer)...)
	ch = append(ch, `,"aud":`...)
	ch = jsonenc.AppendString(ch, aud)
	s.claimsHead = string(append(ch, `,"sub":`...))
	return s, nil
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
	return s.sign(c.Subject, c.SessionID, c.JTI, iat.Unix(), exp.Unix(), c.Scope), nil
}

// sign assembles the compact JWS by hand: the header segment and the claims'
// constant prefix were encoded once by NewSigner, the variable claims are
// appended without reflection, and the result is signed in place. It gives
// the byte-identical token golang-jwt gives for the same header and
// wireClaims (TestSignMatchesGolangJWT and FuzzSignMatchesGolangJWT check
// that), in three allocations instead of about thirty: a refresh and a
// create each sign one token.
func (s *Signer) sign(sub, sid, jti string, iat, exp int64, scope string) string {
	var pb [512]byte
	p := append(pb[:0], s.claimsHead...)
	p = jsonenc.AppendString(p, sub)
	p = append(p, `,"sid":`...)
	p = jsonenc.AppendString(p, sid)
	p = append(p, `,"jti":`...)
	p = jsonenc.AppendString(p, jti)
	p = append(p, `,"iat":`...)
	p = strconv.AppendInt(p, iat, 10)
	p = append(p, `,"exp":`...)
	p = strconv.AppendInt(p, exp, 10)
	if scope != "" {
		p = append(p, `,"scope":`...)
		p = jsonenc.AppendString(p, scope)
	}
	p = append(p, '}')

	enc := base64.RawURLEncoding
	n := len(s.header) + enc.EncodedLen(len(p))
	buf := make([]byte, n, n+1+enc.EncodedLen(ed25519.SignatureSize))
	copy(buf, s.header)
	enc.Encode(buf[len(s.header):], p)
	sig := ed25519.Sign(s.key, buf)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	// buf is never written again: the string can share its bytes.
	return unsafe.String(unsafe.SliceData(buf), len(buf))
}
