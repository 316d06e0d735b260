package token

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Refresh token format, version 1:
//
//	"rt1." + base64url-nopad( sid[16] || gen[4, big-endian] || secret[32] || tag[16] )
//	tag = HMAC-SHA256(tagKey, "rt1" || sid || gen || secret)[:16]
//
// 4 + 91 = 95 characters. The session id and generation travel in the token
// so the store can be addressed without a lookup table; the 256-bit secret
// is what proves possession (SPEC: >= 256 bits of randomness, stored only as
// a hash, see Hash). The tag lets a forged or damaged token be refused
// without a store round trip, and is compared in constant time.
//
// Successors are derived, not drawn (Next): the secret of generation g+1 is
// an HMAC of generation g's secret under a server key. Two racing requests
// presenting the same token therefore compute the byte-identical successor,
// and the store only keeps hashes (RFC 9700 §4.14.2 rotation, with the
// "same successor within the grace window" rule of the SPEC). Knowing a
// token does not let a client compute its successor: that needs nextKey.
const (
	refreshPrefix = "rt1." // exported as RefreshPrefix (accessors.go)
	sidLen        = 16
	genLen        = 4
	secretLen     = 32
	tagLen        = 16
	refreshRawLen = sidLen + genLen + secretLen + tagLen // 68

	// RefreshTokenLen is the length of every encoded refresh token.
	RefreshTokenLen = len(refreshPrefix) + (refreshRawLen*8+5)/6 // 95
)

// HKDF info strings: one derived key per purpose, so no MAC output of one
// purpose can be replayed as another's.
const (
	infoTag  = "sessiond refresh tag v1"
	infoNext = "sessiond refresh next v1"
	infoJTI  = "sessiond access jti v1"
)

// Refresh is a decoded refresh token. Its String method hides Secret, so a
// Refresh printed with %v or %+v by mistake leaks nothing; do not marshal it
// to JSON or log its fields.
type Refresh struct {
	SessionID [16]byte // the session, e.g. a uuid.UUID's bytes
	Gen       uint32   // rotation counter: 0 for the first token of a session
	Secret    [32]byte // 256 bits: random for Gen 0, derived by Next afterwards
}

// String returns the session id and generation, never the secret.
func (r Refresh) String() string {
	return fmt.Sprintf("token.Refresh{SessionID:%x Gen:%d Secret:[redacted]}", r.SessionID, r.Gen)
}

// GoString is String, so %#v hides the secret too.
func (r Refresh) GoString() string { return r.String() }

// NewRefresh returns generation 0 of a session's refresh token with a fresh
// 256-bit secret from crypto/rand.
func NewRefresh(sid [16]byte) (Refresh, error) {
	r := Refresh{SessionID: sid}
	if _, err := rand.Read(r.Secret[:]); err != nil {
		return Refresh{}, fmt.Errorf("token: random: %w", err)
	}
	return r, nil
}

// RefreshKeys holds the three keys derived from SESSION_ENCRYPTION_KEY for
// refresh tokens. The zero value is not usable: build it with
// NewRefreshKeys. It is a value without mutable state, safe to copy and to
// use concurrently. String hides the keys.
type RefreshKeys struct {
	tag  [32]byte // authenticates the token encoding
	next [32]byte // derives successor secrets
	jti  [32]byte // derives access-token ids
}

// NewRefreshKeys derives the refresh-token keys from the 32-byte master key
// (SESSION_ENCRYPTION_KEY) with HKDF-SHA256 (RFC 5869), one info string per
// purpose. It panics if master is not 32 bytes, which config.Load already
// guarantees: a short master key is a programming error, not input.
func NewRefreshKeys(master []byte) RefreshKeys {
	if len(master) != 32 {
		panic("token: NewRefreshKeys: master key must be 32 bytes")
	}
	var k RefreshKeys
	for _, d := range []struct {
		dst  *[32]byte
		info string
	}{{&k.tag, infoTag}, {&k.next, infoNext}, {&k.jti, infoJTI}} {
		b, err := hkdf.Key(sha256.New, master, nil, d.info, 32)
		if err != nil {
			panic("token: hkdf: " + err.Error()) // only for lengths > 255*32
		}
		copy(d.dst[:], b)
	}
	return k
}

// String hides the keys.
func (k RefreshKeys) String() string { return "token.RefreshKeys{[redacted]}" }

// GoString hides the keys from %#v.
func (k RefreshKeys) GoString() string { return k.String() }

func putGen(b []byte, gen uint32) { binary.BigEndian.PutUint32(b, gen) }

func (k *RefreshKeys) tagOf(sid *[16]byte, gen uint32, secret *[32]byte) [tagLen]byte {
	var g [genLen]byte
	putGen(g[:], gen)
	m := hmac.New(sha256.New, k.tag[:])
	m.Write([]byte("rt1"))
	m.Write(sid[:])
	m.Write(g[:])
	m.Write(secret[:])
	var sum [sha256.Size]byte
	var t [tagLen]byte
	copy(t[:], m.Sum(sum[:0]))
	return t
}

// Encode returns the token string of r (RefreshTokenLen characters).
func (k RefreshKeys) Encode(r Refresh) string {
	var raw [refreshRawLen]byte
	copy(raw[:sidLen], r.SessionID[:])
	putGen(raw[sidLen:], r.Gen)
	copy(raw[sidLen+genLen:], r.Secret[:])
	t := k.tagOf(&r.SessionID, r.Gen, &r.Secret)
	copy(raw[sidLen+genLen+secretLen:], t[:])
	var out [RefreshTokenLen]byte
	copy(out[:], refreshPrefix)
	base64.RawURLEncoding.Encode(out[len(refreshPrefix):], raw[:])
	return string(out[:])
}

// strictB64 refuses non-zero padding bits, so exactly one string decodes
// to a given token.
var strictB64 = base64.RawURLEncoding.Strict()

// Parse decodes and authenticates a refresh token. Any failure (prefix,
// length, encoding, tag) returns ErrMalformed and nothing else: the caller
// answers invalid_grant, and neither the client nor a log learns which check
// failed. The tag is compared in constant time. Parse does not consult the
// store: a well-formed token may still be unknown, rotated or revoked.
func (k RefreshKeys) Parse(s string) (Refresh, error) {
	if len(s) != RefreshTokenLen || s[:len(refreshPrefix)] != refreshPrefix {
		return Refresh{}, ErrMalformed
	}
	var raw [refreshRawLen + 3]byte // slack: Decode may write up to a full quantum
	n, err := strictB64.Decode(raw[:], []byte(s[len(refreshPrefix):]))
	if err != nil || n != refreshRawLen {
		return Refresh{}, ErrMalformed
	}
	var r Refresh
	copy(r.SessionID[:], raw[:sidLen])
	r.Gen = binary.BigEndian.Uint32(raw[sidLen:])
	copy(r.Secret[:], raw[sidLen+genLen:])
	want := k.tagOf(&r.SessionID, r.Gen, &r.Secret)
	if !hmac.Equal(want[:], raw[sidLen+genLen+secretLen:refreshRawLen]) {
		return Refresh{}, ErrMalformed
	}
	return r, nil
}

// Next returns the successor of r: same session, Gen+1, and
//
//	Secret = HMAC-SHA256(nextKey, "rt1-next" || sid || gen+1 || r.Secret)
//
// It is deterministic: the same r always gives the same successor, so a
// request racing within the grace window gets the byte-identical token
// without the server keeping any plaintext. Gen wraps after 2^32-1
// rotations, far beyond any session's absolute lifetime.
func (k RefreshKeys) Next(r Refresh) Refresh {
	gen := r.Gen + 1
	var g [genLen]byte
	putGen(g[:], gen)
	m := hmac.New(sha256.New, k.next[:])
	m.Write([]byte("rt1-next"))
	m.Write(r.SessionID[:])
	m.Write(g[:])
	m.Write(r.Secret[:])
	n := Refresh{SessionID: r.SessionID, Gen: gen}
	m.Sum(n.Secret[:0])
	return n
}

// JTI returns the access-token id for generation gen of session sid:
//
//	base64url-nopad(HMAC-SHA256(jtiKey, "jti" || sid || gen)[:16])
//
// (22 characters). Being derived, the access token issued with a refresh
// generation can be rebuilt byte for byte (Signer.Sign is deterministic)
// when a racing request asks for it again.
func (k RefreshKeys) JTI(sid [16]byte, gen uint32) string {
	var g [genLen]byte
	putGen(g[:], gen)
	m := hmac.New(sha256.New, k.jti[:])
	m.Write([]byte("jti"))
	m.Write(sid[:])
	m.Write(g[:])
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0])[:16])
}

// Hash returns what is stored at rest for r: hex of
// SHA-256(secret || gen || sid), 64 characters. An unkeyed hash suffices:
// the secret has 256 bits of entropy (random, or an HMAC output), so the
// hash cannot be inverted or guessed, and a leaked store yields no usable
// token.
func Hash(r Refresh) string {
	var buf [secretLen + genLen + sidLen]byte
	copy(buf[:], r.Secret[:])
	putGen(buf[secretLen:], r.Gen)
	copy(buf[secretLen+genLen:], r.SessionID[:])
	sum := sha256.Sum256(buf[:])
	return hex.EncodeToString(sum[:])
}
