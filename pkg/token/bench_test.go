package token

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func BenchmarkSign(b *testing.B) {
	s := newTestSigner(b, testKey(1))
	c := testClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignHandAssembled is the yardstick for the choice of golang-jwt
// for signing: the same token built by hand, with the header segment
// precomputed. The gap is what golang-jwt's generality costs per token.
func BenchmarkSignHandAssembled(b *testing.B) {
	k := testKey(1)
	s := newTestSigner(b, k)
	want, _ := s.Sign(testClaims())
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","kid":"` + s.KeyID() + `","typ":"at+jwt"}`))
	c := testClaims()
	sign := func() string {
		wc := wireClaims{
			Issuer: testIssuer, Audience: audience{testAudience}, Subject: c.Subject, SessionID: c.SessionID,
			ID: c.JTI, IssuedAt: newDate(c.IssuedAt), ExpiresAt: newDate(c.IssuedAt.Add(s.ttl)), Scope: c.Scope,
		}
		p, _ := json.Marshal(&wc)
		buf := make([]byte, 0, len(header)+1+base64.RawURLEncoding.EncodedLen(len(p))+1+86)
		buf = append(buf, header...)
		buf = append(buf, '.')
		buf = base64.RawURLEncoding.AppendEncode(buf, p)
		sig := ed25519.Sign(k, buf)
		buf = append(buf, '.')
		buf = base64.RawURLEncoding.AppendEncode(buf, sig)
		return string(buf)
	}
	if got := sign(); got != want {
		b.Fatalf("hand-assembled token differs:\n%s\n%s", got, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		sign()
	}
}

func BenchmarkVerifyCold(b *testing.B) {
	k := testKey(1)
	tok, _ := newTestSigner(b, k).Sign(testClaims())
	v := newTestVerifier(b, &fixedClock{t0}, 0, pubOf(k), pubOf(testKey(2)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCached(b *testing.B) {
	k := testKey(1)
	tok, _ := newTestSigner(b, k).Sign(testClaims())
	v := newTestVerifier(b, &fixedClock{t0}, 4096, pubOf(k), pubOf(testKey(2)))
	if _, err := v.Verify(tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCachedParallel: many goroutines on 1,000 hot tokens, the
// shape of introspection traffic, to show the cache lock is not the limit.
func BenchmarkVerifyCachedParallel(b *testing.B) {
	k := testKey(1)
	s := newTestSigner(b, k)
	v := newTestVerifier(b, &fixedClock{t0}, 4096, pubOf(k))
	toks := make([]string, 1000)
	for i := range toks {
		c := testClaims()
		c.JTI = fmt.Sprint("jti-", i)
		toks[i], _ = s.Sign(c)
		if _, err := v.Verify(toks[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := v.Verify(toks[i%len(toks)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkRefreshEncode(b *testing.B) {
	k := NewRefreshKeys(testMaster(1))
	r := testRefresh()
	b.ReportAllocs()
	for b.Loop() {
		_ = k.Encode(r)
	}
}

func BenchmarkRefreshParse(b *testing.B) {
	k := NewRefreshKeys(testMaster(1))
	s := k.Encode(testRefresh())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefreshRotate is the token work of one refresh: parse, hash the
// presented token, derive the successor, its hash, its jti and encode it.
func BenchmarkRefreshRotate(b *testing.B) {
	k := NewRefreshKeys(testMaster(1))
	s := k.Encode(testRefresh())
	b.ReportAllocs()
	for b.Loop() {
		r, err := k.Parse(s)
		if err != nil {
			b.Fatal(err)
		}
		n := k.Next(r)
		_, _, _, _ = Hash(r), Hash(n), k.JTI(n.SessionID, n.Gen), k.Encode(n)
	}
}

func newDate(t time.Time) *jwt.NumericDate { return jwt.NewNumericDate(t) }
