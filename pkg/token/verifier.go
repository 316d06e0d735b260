package token

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultLeeway is the clock skew tolerated on exp, nbf and iat unless
// WithLeeway says otherwise.
const DefaultLeeway = 30 * time.Second

// Verifier checks access tokens offline: signature, header and claims. It
// knows the current key and any previous keys (rotation), each by its kid.
// It is safe for concurrent use.
//
// Verify says whether a token is genuine and within its lifetime. It knows
// nothing of revocation or session state: the session core still checks
// those in the store on every call, which is why caching verified
// signatures here (WithCache) cannot delay a revocation.
type Verifier struct {
	keys     map[string]ed25519.PublicKey // by kid
	order    []string                     // kids, current first: JWKS order
	issuer   string
	audience string
	now      func() time.Time
	leeway   time.Duration
	parser   *jwt.Parser
	cache    *verifiedCache // nil when disabled
	jwks     []byte
}

// VerifierOption configures NewVerifier.
type VerifierOption func(*Verifier)

// WithClock sets the clock used for exp, nbf and iat. Default time.Now.
func WithClock(now func() time.Time) VerifierOption {
	return func(v *Verifier) { v.now = now }
}

// WithLeeway sets the clock skew tolerated on exp, nbf and iat. Default
// DefaultLeeway (30s). Negative values are treated as 0.
func WithLeeway(d time.Duration) VerifierOption {
	return func(v *Verifier) { v.leeway = max(d, 0) }
}

// WithCache keeps up to size recently verified tokens, so that verifying the
// same token again skips signature verification and decoding (50-100µs of
// Ed25519 and JSON work on a small server) for a map lookup well under a
// microsecond; see the package benchmarks. Expiry, nbf and iat are still
// checked against the clock on every call; iss, aud and the signature
// cannot change for a given token string. A token enters the cache only
// after it passed every check. Size <= 0 disables the cache (the default).
//
// The cache is split into 16 shards (16 locks); it holds at most
// max(size, 32) entries. Memory: about size × (token length + 200 bytes),
// e.g. 4096 entries of 350-byte tokens ≈ 2.2 MB. Only tokens that passed
// verification are stored, so an attacker cannot fill it with junk.
func WithCache(size int) VerifierOption {
	return func(v *Verifier) {
		if size > 0 {
			v.cache = newVerifiedCache(size)
		} else {
			v.cache = nil
		}
	}
}

// NewVerifier returns a Verifier accepting tokens with iss = issuer and an
// aud containing audience, signed by any of keys. keys[0] is the current
// key; the rest are previous keys still accepted after a rotation. A key
// given twice is kept once. The JWKS document is built here, once.
func NewVerifier(issuer, audience string, keys []ed25519.PublicKey, opts ...VerifierOption) (*Verifier, error) {
	if issuer == "" || audience == "" {
		return nil, fmt.Errorf("%w: issuer and audience are required", ErrClaims)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no verification key", ErrKey)
	}
	v := &Verifier{
		keys:     make(map[string]ed25519.PublicKey, len(keys)),
		issuer:   issuer,
		audience: audience,
		now:      time.Now,
		leeway:   DefaultLeeway,
	}
	for i, k := range keys {
		if len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: verification key %d is not an Ed25519 public key", ErrKey, i+1)
		}
		kid := KeyID(k)
		if _, dup := v.keys[kid]; dup {
			continue
		}
		v.keys[kid] = append(ed25519.PublicKey(nil), k...)
		v.order = append(v.order, kid)
	}
	for _, o := range opts {
		o(v)
	}
	if v.now == nil {
		v.now = time.Now
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(v.now),
		jwt.WithStrictDecoding(), // one token string per signature: no base64 malleability
	)
	v.jwks = buildJWKS(v.order, v.keys)
	return v, nil
}

// Verify checks token and returns its claims. The error, if any, wraps
// exactly one of ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrSignature,
// ErrExpired or ErrClaims, and never contains the token.
//
// Checks: three base64url segments (strict); header alg = EdDSA (nothing
// else, "none" included, is ever considered: RFC 8725 §3.1), typ = at+jwt
// (RFC 9068 §4; "application/at+jwt" too, case-insensitively), no crit, kid
// naming a known key; a valid Ed25519 signature; iss and aud match; sub,
// sid, jti, iat and exp present; exp not passed and nbf, iat not in the
// future, each with the leeway.
//
// The returned claims are the caller's to keep or modify.
func (v *Verifier) Verify(token string) (*AccessClaims, error) {
	if v.cache != nil {
		if e, ok := v.cache.get(token); ok {
			if err := v.checkTimes(e.claims.ExpiresAt, e.notBefore, e.claims.IssuedAt); err != nil {
				if errors.Is(err, ErrExpired) {
					v.cache.remove(token)
				}
				return nil, err
			}
			c := e.claims
			return &c, nil
		}
	}
	var wc wireClaims
	if _, err := v.parser.ParseWithClaims(token, &wc, v.keyFor); err != nil {
		return nil, classify(err)
	}
	c := AccessClaims{
		Subject:   wc.Subject,
		SessionID: wc.SessionID,
		JTI:       wc.ID,
		IssuedAt:  wc.IssuedAt.UTC(),
		ExpiresAt: wc.ExpiresAt.UTC(),
		Scope:     wc.Scope,
	}
	if v.cache != nil {
		var nbf time.Time
		if wc.NotBefore != nil {
			nbf = wc.NotBefore.UTC()
		}
		v.cache.put(token, cacheEntry{claims: c, notBefore: nbf})
	}
	return &c, nil
}

// keyFor is the golang-jwt Keyfunc: it runs after the alg allow-list and
// picks the key by kid, refusing anything not shaped like our tokens.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	if t.Method != jwt.SigningMethodEdDSA {
		return nil, ErrAlgorithm
	}
	typ, _ := t.Header["typ"].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, ErrMalformed
	}
	if _, ok := t.Header["crit"]; ok {
		// RFC 7515 §4.1.11: we understand no extension, so must refuse.
		return nil, ErrMalformed
	}
	kid, _ := t.Header["kid"].(string)
	k, ok := v.keys[kid]
	if !ok {
		return nil, ErrUnknownKey
	}
	return k, nil
}

// checkTimes applies the same rules as golang-jwt's validator (exp strictly
// after now-leeway; nbf and iat not after now+leeway) for cached tokens.
func (v *Verifier) checkTimes(exp, nbf, iat time.Time) error {
	now := v.now()
	if !now.Before(exp.Add(v.leeway)) {
		return ErrExpired
	}
	if !nbf.IsZero() && now.Before(nbf.Add(-v.leeway)) {
		return errNotYetValid
	}
	if now.Before(iat.Add(-v.leeway)) {
		return errNotYetValid
	}
	return nil
}

var (
	errNotYetValid = fmt.Errorf("%w: not valid yet", ErrClaims)
	errIssuer      = fmt.Errorf("%w: issuer mismatch", ErrClaims)
	errAudience    = fmt.Errorf("%w: audience mismatch", ErrClaims)
	errRequired    = fmt.Errorf("%w: required claim missing", ErrClaims)
)

// classify turns golang-jwt's error into one of ours. Its texts are dropped:
// some quote parts of the input (the alg, a JSON character).
func classify(err error) error {
	for _, own := range []error{ErrAlgorithm, ErrMalformed, ErrUnknownKey} {
		if errors.Is(err, own) { // returned by keyFor
			return own
		}
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ErrMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if errors.Is(err, jwt.ErrEd25519Verification) {
			return ErrSignature
		}
		if errors.Is(err, jwt.ErrInvalidKey) || errors.Is(err, jwt.ErrInvalidKeyType) {
			return ErrSignature
		}
		// The alg allow-list refused the header's alg.
		return ErrAlgorithm
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// alg missing or naming no registered method.
		return ErrAlgorithm
	}
	// Claims: a wrong iss/aud or a missing claim outranks an expiry, so a
	// token that is both foreign and old is reported as foreign.
	switch {
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return errIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return errAudience
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing), errors.Is(err, errMissingClaim):
		return errRequired
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return errNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return ErrClaims
	}
	return ErrMalformed
}
