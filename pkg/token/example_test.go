package token_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sessionkit/sessiond/pkg/token"
)

// The RFC 8037 Appendix A example key, so the output below can be checked
// against the RFC.
func exampleKey() ed25519.PrivateKey {
	seed, _ := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	return ed25519.NewKeyFromSeed(seed)
}

func ExampleKeyID() {
	pub := exampleKey().Public().(ed25519.PublicKey)
	fmt.Println(token.KeyID(pub))
	// Output: kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k
}

func ExampleSigner_Sign() {
	signer, err := token.NewSigner(exampleKey(), "https://sessions.example.com", "sessions", 15*time.Minute)
	if err != nil {
		panic(err)
	}
	claims := token.AccessClaims{
		Subject:   "user-42",
		SessionID: "0190c2a4-7f3e-7b4c-9d2e-1a2b3c4d5e6f",
		JTI:       "Xb3p9ZQ1kq7Lx2mN0aVt5w",
		IssuedAt:  time.Unix(1767225600, 0), // 2026-01-01T00:00:00Z
	}
	tok, _ := signer.Sign(claims)
	again, _ := signer.Sign(claims)
	parts := strings.Split(tok, ".")
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	fmt.Println(string(header))
	fmt.Println(string(payload))
	fmt.Println("deterministic:", tok == again)
	// Output:
	// {"alg":"EdDSA","kid":"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k","typ":"at+jwt"}
	// {"iss":"https://sessions.example.com","aud":"sessions","sub":"user-42","sid":"0190c2a4-7f3e-7b4c-9d2e-1a2b3c4d5e6f","jti":"Xb3p9ZQ1kq7Lx2mN0aVt5w","iat":1767225600,"exp":1767226500}
	// deterministic: true
}

func ExampleVerifier_Verify() {
	key := exampleKey()
	signer, _ := token.NewSigner(key, "https://sessions.example.com", "sessions", 15*time.Minute)
	now := time.Unix(1767225600, 0)
	tok, _ := signer.Sign(token.AccessClaims{Subject: "user-42", SessionID: "s1", JTI: "j1", IssuedAt: now})

	clock := now.Add(5 * time.Minute)
	verifier, _ := token.NewVerifier("https://sessions.example.com", "sessions",
		[]ed25519.PublicKey{key.Public().(ed25519.PublicKey)},
		token.WithClock(func() time.Time { return clock }), token.WithCache(1024))

	c, err := verifier.Verify(tok)
	fmt.Println(c.Subject, c.SessionID, c.ExpiresAt.Format(time.RFC3339), err)

	clock = now.Add(20 * time.Minute) // past exp + leeway; the cache does not help
	_, err = verifier.Verify(tok)
	fmt.Println(errors.Is(err, token.ErrExpired), err)
	// Output:
	// user-42 s1 2026-01-01T00:15:00Z <nil>
	// true token: expired
}

func ExampleVerifier_JWKS() {
	current := exampleKey()
	previous := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	verifier, _ := token.NewVerifier("https://sessions.example.com", "sessions", []ed25519.PublicKey{
		current.Public().(ed25519.PublicKey), previous.Public().(ed25519.PublicKey),
	})
	doc := verifier.JWKS()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	_ = json.Unmarshal(doc, &set)
	for _, k := range set.Keys {
		_, hasD := k["d"]
		fmt.Println(k["kty"], k["crv"], k["alg"], k["use"], k["kid"], "private part:", hasD)
	}
	// Output:
	// OKP Ed25519 EdDSA sig kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k private part: false
	// OKP Ed25519 EdDSA sig UDDReOZl1ipXAfp9wYsm13sDBMK5og--QWdBjzuf6o4 private part: false
}

func ExampleRefreshKeys_Parse() {
	keys := token.NewRefreshKeys(bytes.Repeat([]byte{0x42}, 32)) // SESSION_ENCRYPTION_KEY
	var sid [16]byte
	copy(sid[:], "session-id-16byt")
	first, _ := token.NewRefresh(sid)

	s := keys.Encode(first)
	got, err := keys.Parse(s)
	fmt.Println(len(s), s[:4], got == first, err)

	// Rotation: the successor is derived, so computing it twice gives one token.
	next := keys.Next(got)
	fmt.Println(next.Gen, keys.Encode(next) == keys.Encode(keys.Next(first)))

	// Any change is refused the same way, without saying what was wrong.
	tampered := s[:10] + string(s[10]^1) + s[11:]
	_, err = keys.Parse(tampered)
	fmt.Println(err)
	// Output:
	// 95 rt1. true <nil>
	// 1 true
	// token: malformed
}

func ExampleRefreshKeys_JTI() {
	keys := token.NewRefreshKeys(bytes.Repeat([]byte{0x42}, 32))
	var sid [16]byte
	a := keys.JTI(sid, 7)
	fmt.Println(len(a), a == keys.JTI(sid, 7), a == keys.JTI(sid, 8))
	// Output: 22 true false
}
