package token

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
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

// signWithGolangJWT is the reference Sign is held to: the token golang-jwt
// builds for the same header and wireClaims (how Sign itself worked before
// it assembled tokens by hand).
func signWithGolangJWT(t testing.TB, s *Signer, c AccessClaims) string {
	t.Helper()
	iat := c.IssuedAt.Truncate(time.Second)
	exp := c.ExpiresAt.Truncate(time.Second)
	if c.ExpiresAt.IsZero() {
		exp = iat.Add(s.ttl).Truncate(time.Second)
	}
	tok := &jwt.Token{
		Header: map[string]any{"alg": jwt.SigningMethodEdDSA.Alg(), "kid": s.kid, "typ": "at+jwt"},
		Claims: &wireClaims{
			Issuer: s.issuer, Audience: s.audience, Subject: c.Subject, SessionID: c.SessionID, ID: c.JTI,
			IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(exp), Scope: c.Scope,
		},
		Method: jwt.SigningMethodEdDSA,
	}
	out, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// awkward are strings that exercise every escape of the claims' JSON.
var awkward = []string{
	"user-1", "a", "<script>&amp;</script>", "tab\there\nnew\"q\\", "\x00\x01\x1f\x7f", "é 日本 🙂",
	"\u2028\u2029", "bad \xff\xfe utf8 \xc3", "openid profile email",
}

func TestSignMatchesGolangJWT(t *testing.T) {
	t.Parallel()
	signers := []*Signer{newTestSigner(t, testKey(1))}
	odd, err := NewSigner(testKey(3), "https://iss.test/<&>\u2028", "aud \"quoted\" é", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	signers = append(signers, odd)
	times := []time.Time{t0, t0.Add(999 * time.Millisecond), time.Unix(1, 0), time.Unix(-5, 300), time.Unix(1<<40, 7)}
	for _, s := range signers {
		for i, str := range awkward {
			for j, at := range times {
				c := AccessClaims{Subject: str, SessionID: awkward[(i+1)%len(awkward)], JTI: awkward[(i+2)%len(awkward)],
					IssuedAt: at, Scope: awkward[(i+j)%len(awkward)]}
				if j%2 == 1 {
					c.Scope = ""
					c.ExpiresAt = at.Add(90 * time.Second)
				}
				got, err := s.Sign(c)
				if err != nil {
					t.Fatal(err)
				}
				if want := signWithGolangJWT(t, s, c); got != want {
					t.Fatalf("%+v:\nours:       %s\ngolang-jwt: %s", c, got, want)
				}
			}
		}
	}
}

func FuzzSignMatchesGolangJWT(f *testing.F) {
	for i, s := range awkward {
		f.Add(s, awkward[(i+1)%len(awkward)], awkward[(i+2)%len(awkward)], awkward[(i+3)%len(awkward)], t0.Unix()+int64(i), int64(i*60))
	}
	s := newTestSigner(f, testKey(1))
	f.Fuzz(func(t *testing.T, sub, sid, jti, scope string, iat, life int64) {
		// Times golang-jwt's NumericDate writes as plain integers (it goes
		// through float64 past 2^53 s, which no token lives to see).
		iat %= 1 << 40
		c := AccessClaims{Subject: sub, SessionID: sid, JTI: jti, Scope: scope, IssuedAt: time.Unix(iat, 0)}
		if life != 0 {
			c.ExpiresAt = c.IssuedAt.Add(time.Duration(life%(1<<30)) * time.Second)
		}
		got, err := s.Sign(c)
		if err != nil {
			if !errors.Is(err, ErrClaims) {
				t.Fatalf("Sign: %v", err)
			}
			return
		}
		if want := signWithGolangJWT(t, s, c); got != want {
			t.Fatalf("%+v:\nours:       %s\ngolang-jwt: %s", c, got, want)
		}
	})
}
