package token

import (
	"fmt"
	"testing"
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

// BenchmarkSignGolangJWT is the yardstick for Sign's hand assembly: the same
// token through golang-jwt (TestSignMatchesGolangJWT shows the bytes are the
// same). The gap is what golang-jwt's generality costs per token.
func BenchmarkSignGolangJWT(b *testing.B) {
	s := newTestSigner(b, testKey(1))
	c := testClaims()
	b.ReportAllocs()
	for b.Loop() {
		signWithGolangJWT(b, s, c)
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
