package token

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const (
	testIssuer   = "https://issuer.test"
	testAudience = "sessions"
)

// t0 is a fixed instant all tests measure from.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testKey returns a fixed Ed25519 key, one per seed byte.
func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func pubOf(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// fixedClock is a settable clock for WithClock.
type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }

func newTestSigner(t testing.TB, k ed25519.PrivateKey) *Signer {
	t.Helper()
	s, err := NewSigner(k, testIssuer, testAudience, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newTestVerifier(t testing.TB, clock *fixedClock, cache int, keys ...ed25519.PublicKey) *Verifier {
	t.Helper()
	v, err := NewVerifier(testIssuer, testAudience, keys, WithClock(clock.now), WithCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func testClaims() AccessClaims {
	return AccessClaims{Subject: "user-1", SessionID: "sess-1", JTI: "jti-1", IssuedAt: t0, Scope: "openid profile"}
}

// rawJWT assembles a compact JWS from arbitrary header and claims maps and
// signs it with key (nil: empty signature). It lets tests build tokens the
// Signer would never produce.
func rawJWT(t testing.TB, header, claims map[string]any, key ed25519.PrivateKey) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	var sig []byte
	if key != nil {
		sig = ed25519.Sign(key, []byte(input))
	}
	return input + "." + enc.EncodeToString(sig)
}

// goodHeader and goodClaims are what the Signer writes, as maps to mutate.
func goodHeader(k ed25519.PrivateKey) map[string]any {
	return map[string]any{"alg": "EdDSA", "kid": KeyID(pubOf(k)), "typ": "at+jwt"}
}

func goodClaims() map[string]any {
	return map[string]any{
		"iss": testIssuer, "aud": testAudience, "sub": "user-1", "sid": "sess-1", "jti": "jti-1",
		"iat": t0.Unix(), "exp": t0.Add(15 * time.Minute).Unix(),
	}
}

// decodeSegment returns the JSON of segment i of a compact JWS.
func decodeSegment(t testing.TB, tok string, i int) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
