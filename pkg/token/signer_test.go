package token

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignWireFormat(t *testing.T) {
	t.Parallel()
	k := testKey(1)
	s := newTestSigner(t, k)
	c := testClaims()
	c.IssuedAt = t0.Add(700 * time.Millisecond) // truncated to the second
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := `{"alg":"EdDSA","kid":"` + KeyID(pubOf(k)) + `","typ":"at+jwt"}`
	if got := decodeSegment(t, tok, 0); got != wantHeader {
		t.Errorf("header = %s\nwant     %s", got, wantHeader)
	}
	wantClaims := `{"iss":"https://issuer.test","aud":"sessions","sub":"user-1","sid":"sess-1","jti":"jti-1",` +
		`"iat":1772366400,"exp":1772367300,"scope":"openid profile"}`
	if got := decodeSegment(t, tok, 1); got != wantClaims {
		t.Errorf("claims = %s\nwant     %s", got, wantClaims)
	}
	if s.KeyID() != KeyID(pubOf(k)) || !s.PublicKey().Equal(pubOf(k)) || s.TTL() != 15*time.Minute {
		t.Error("accessors disagree with the key and TTL")
	}

	c.Scope = ""
	c.ExpiresAt = t0.Add(time.Minute)
	tok, err = s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeSegment(t, tok, 1)
	if strings.Contains(got, "scope") {
		t.Errorf("empty scope written: %s", got)
	}
	if !strings.Contains(got, `"exp":1772366460`) {
		t.Errorf("explicit exp not used: %s", got)
	}
}

func TestSignDeterministic(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, testKey(1))
	a, err := s.Sign(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	// A second Signer from the same key: nothing per-instance leaks in.
	b, err := newTestSigner(t, testKey(1)).Sign(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("same claims gave different tokens")
	}
	c := testClaims()
	c.JTI = "jti-2"
	d, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	if d == a {
		t.Fatal("different jti gave the same token")
	}
	e, err := newTestSigner(t, testKey(2)).Sign(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	if e == a {
		t.Fatal("different key gave the same token")
	}
}

func TestSignRefuses(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, testKey(1))
	cases := map[string]func(*AccessClaims){
		"no subject":   func(c *AccessClaims) { c.Subject = "" },
		"no session":   func(c *AccessClaims) { c.SessionID = "" },
		"no jti":       func(c *AccessClaims) { c.JTI = "" },
		"no iat":       func(c *AccessClaims) { c.IssuedAt = time.Time{} },
		"exp equal":    func(c *AccessClaims) { c.ExpiresAt = c.IssuedAt },
		"exp before":   func(c *AccessClaims) { c.ExpiresAt = c.IssuedAt.Add(-time.Hour) },
		"exp sub-sec.": func(c *AccessClaims) { c.ExpiresAt = c.IssuedAt.Add(500 * time.Millisecond) },
	}
	for name, mut := range cases {
		t.Run(name, func(t *testing.T) {
			c := testClaims()
			mut(&c)
			if tok, err := s.Sign(c); !errors.Is(err, ErrClaims) || tok != "" {
				t.Fatalf("Sign = %q, %v; want ErrClaims", tok, err)
			}
		})
	}
}

func TestNewSignerRefuses(t *testing.T) {
	t.Parallel()
	k := testKey(1)
	for name, f := range map[string]func() (*Signer, error){
		"short key":    func() (*Signer, error) { return NewSigner(k[:10], testIssuer, testAudience, time.Minute) },
		"no issuer":    func() (*Signer, error) { return NewSigner(k, "", testAudience, time.Minute) },
		"no audience":  func() (*Signer, error) { return NewSigner(k, testIssuer, "", time.Minute) },
		"zero ttl":     func() (*Signer, error) { return NewSigner(k, testIssuer, testAudience, 0) },
		"negative ttl": func() (*Signer, error) { return NewSigner(k, testIssuer, testAudience, -time.Second) },
	} {
		if s, err := f(); err == nil || s != nil {
			t.Errorf("%s: NewSigner = %v, %v; want an error", name, s, err)
		}
	}
}
