package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// maxCredentialLen bounds an Authorization credential. Our access tokens are
// a few hundred bytes; anything much larger is not ours.
const maxCredentialLen = 4096

// bearer returns the credential of an "Authorization: Bearer <token>" header
// (RFC 6750 §2.1; the scheme is case-insensitive, RFC 9110 §11.1). present is
// false when there is no Authorization header at all. A header that is there
// but is not a single well-formed Bearer credential is an error (401
// invalid_request), so a malformed credential is never mistaken for none.
func bearer(r *http.Request) (tok string, present bool, err error) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 {
		return "", false, nil
	}
	if len(vals) > 1 {
		return "", true, unauthorized("invalid_request", "send one Authorization header")
	}
	scheme, cred, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true, unauthorized("invalid_request", "use the Bearer authorization scheme")
	}
	cred = strings.TrimLeft(cred, " ")
	if cred == "" || len(cred) > maxCredentialLen || !isToken68(cred) {
		return "", true, unauthorized("invalid_token", "malformed bearer credential")
	}
	return cred, true, nil
}

// isToken68 reports whether s matches RFC 9110's token68:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// keyEqual reports whether a presented secret equals the configured one, in
// time independent of where they differ and of their lengths: both sides are
// hashed to 32 bytes first, then compared with crypto/subtle. An empty
// configured key (the feature is off) matches nothing.
func keyEqual(given, want string) bool {
	if want == "" {
		return false
	}
	g := sha256.Sum256([]byte(given))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// secret is a configured key (admin, introspection or cron) with what the
// checks need computed once per warm instance: its SHA-256 for keyEqual's
// comparison, and its caller id (see callerID).
type secret struct {
	set    bool
	sum    [sha256.Size]byte
	caller string
}

func newSecret(key string) *secret {
	if key == "" {
		return &secret{} // the feature is off: matches nothing
	}
	return &secret{set: true, sum: sha256.Sum256([]byte(key)), caller: callerID(key)}
}

// equal is keyEqual against the precomputed hash of the configured key;
// given is the SHA-256 of the presented one.
func (s *secret) equal(given *[sha256.Size]byte) bool {
	if !s.set {
		return false
	}
	return subtle.ConstantTimeCompare(given[:], s.sum[:]) == 1
}

// looksLikeJWT reports whether tok has the three dot-separated segments of a
// compact JWS. A bearer that is not shaped like an access token and is not
// a configured key is most likely a guessed key, and counts as a failure.
func looksLikeJWT(tok string) bool {
	return strings.Count(tok, ".") == 2
}
