package token

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParseRefresh: Parse never panics, fails only with ErrMalformed, and
// whatever it accepts re-encodes to the very same string (one string per
// token: no malleable encodings).
func FuzzParseRefresh(f *testing.F) {
	k := NewRefreshKeys(testMaster(1))
	good := k.Encode(testRefresh())
	f.Add(good)
	f.Add(k.Encode(k.Next(testRefresh())))
	f.Add(good[:len(good)-1] + "B")
	f.Add("rt1." + strings.Repeat("A", 91))
	f.Add("rt1.")
	f.Add("")
	f.Add(good + "=")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := k.Parse(s)
		if err != nil {
			if err != ErrMalformed || r != (Refresh{}) {
				t.Fatalf("Parse = %v, %v", r, err)
			}
			return
		}
		if got := k.Encode(r); got != s {
			t.Fatalf("accepted %q but it encodes back as %q", s, got)
		}
	})
}

// FuzzVerify: Verify never panics on any input, refuses with exactly one of
// the sentinels, and never echoes the input in its error text.
func FuzzVerify(f *testing.F) {
	key := testKey(1)
	s, err := NewSigner(key, testIssuer, testAudience, 15*time.Minute)
	if err != nil {
		f.Fatal(err)
	}
	good, err := s.Sign(testClaims())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-2])
	f.Add("e30.e30.")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("...")
	f.Add("")
	clock := &fixedClock{t0}
	v, err := NewVerifier(testIssuer, testAudience, []ed25519.PublicKey{pubOf(key)}, WithClock(clock.now), WithCache(4))
	if err != nil {
		f.Fatal(err)
	}
	sentinels := []error{ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrSignature, ErrExpired, ErrClaims}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(tok)
		if err == nil {
			if c == nil || c.Subject == "" || c.SessionID == "" || c.JTI == "" {
				t.Fatalf("accepted with claims %+v", c)
			}
			return
		}
		n := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				n++
			}
		}
		if n != 1 || c != nil {
			t.Fatalf("err %q matches %d sentinels (claims %v)", err, n, c)
		}
		if len(tok) >= 6 && strings.Contains(err.Error(), tok) {
			t.Fatalf("error text contains the input")
		}
	})
}
