package token

import "errors"

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers branch with errors.Is. Error texts are fixed strings chosen
// by this package: they never contain the token, a key, a claim value or text
// taken from the input, so they are safe to log.
//
// The HTTP layer should not tell a client which of them it was (an inactive
// token is just inactive); the distinction is for logs, metrics and tests.
var (
	// ErrMalformed: the input is not a token of the expected shape. For access
	// tokens: not three base64url segments, a header or claims that are not
	// JSON of the right types, a typ other than at+jwt, a crit header. For
	// refresh tokens it is the only error Parse returns: wrong prefix, length,
	// encoding or authentication tag all look the same to the caller, so a
	// probing client learns nothing about which part it got wrong.
	ErrMalformed = errors.New("token: malformed")

	// ErrAlgorithm: the header names an algorithm other than EdDSA ("none",
	// HS256, RS256, ...). Verification is pinned to EdDSA; a token that asks
	// for anything else is refused before any key is looked at (RFC 8725 §3.1).
	ErrAlgorithm = errors.New("token: algorithm not accepted")

	// ErrUnknownKey: the header's kid is missing or names no key this verifier
	// holds (not the current key nor a previous one).
	ErrUnknownKey = errors.New("token: unknown key id")

	// ErrSignature: the signature does not verify under the key named by kid.
	ErrSignature = errors.New("token: invalid signature")

	// ErrExpired: the signature is good but exp has passed (beyond the leeway).
	ErrExpired = errors.New("token: expired")

	// ErrClaims: the signature is good but the claims are not acceptable: iss
	// or aud do not match, a required claim (sub, sid, jti, iat, exp) is
	// missing, or nbf / iat lie in the future beyond the leeway. Sign also
	// returns it for claims it refuses to sign.
	ErrClaims = errors.New("token: invalid claims")

	// ErrKey: a key could not be parsed or is not an Ed25519 key of the
	// expected kind (private PKCS#8 or public PKIX). The wrapped text names
	// the problem (PEM label, key type) but never includes key bytes.
	ErrKey = errors.New("token: invalid key")
)
