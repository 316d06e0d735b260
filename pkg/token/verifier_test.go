package token

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	k := testKey(1)
	tok, err := newTestSigner(t, k).Sign(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	for _, cache := range []int{0, 16} {
		t.Run(fmt.Sprintf("cache=%d", cache), func(t *testing.T) {
			v := newTestVerifier(t, &fixedClock{t0.Add(time.Minute)}, cache, pubOf(k))
			for i := range 3 { // cold, then cached when enabled
				c, err := v.Verify(tok)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				want := testClaims()
				want.ExpiresAt = t0.Add(15 * time.Minute)
				if *c != want {
					t.Fatalf("call %d: claims = %+v\nwant %+v", i, *c, want)
				}
				c.Subject = "mutated" // must not reach the cache
			}
			if cache > 0 && v.cache.len() != 1 {
				t.Fatalf("cache holds %d entries, want 1", v.cache.len())
			}
		})
	}
}

func TestVerifyPreviousKey(t *testing.T) {
	t.Parallel()
	cur, prev, other := testKey(1), testKey(2), testKey(3)
	clock := &fixedClock{t0}
	v := newTestVerifier(t, clock, 0, pubOf(cur), pubOf(prev))
	for name, k := range map[string]struct {
		key  []byte
		want error
	}{
		"current":  {cur, nil},
		"previous": {prev, nil},
		"unknown":  {other, ErrUnknownKey},
	} {
		tok, err := newTestSigner(t, k.key).Sign(testClaims())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(tok); !errors.Is(err, k.want) || (k.want == nil && err != nil) {
			t.Errorf("%s: err = %v, want %v", name, err, k.want)
		}
	}
}

// hsToken forges an HS256 token keyed with the public key bytes: the classic
// algorithm-confusion attack against verifiers that let the header choose.
func hsToken(t *testing.T, header, claims map[string]any, secret []byte) string {
	unsigned := rawJWT(t, header, claims, nil)
	input := strings.TrimSuffix(unsigned, ".")
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	k, other := testKey(1), testKey(2)
	pub := pubOf(k)
	with := func(m map[string]any, kv ...any) map[string]any {
		out := make(map[string]any, len(m))
		for key, val := range m {
			out[key] = val
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(out, kv[i].(string))
			} else {
				out[kv[i].(string)] = kv[i+1]
			}
		}
		return out
	}
	h, c := goodHeader(k), goodClaims()
	good := rawJWT(t, h, c, k)
	parts := strings.Split(good, ".")
	// Flip a bit inside the signature's last character's padding bits: same
	// decoded bytes under lax base64, so only strict decoding refuses it.
	sig := []byte(parts[2])
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", sig[len(sig)-1])
	sig[len(sig)-1] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last^1]
	malleated := parts[0] + "." + parts[1] + "." + string(sig)
	tamperedPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString(
		[]byte(strings.Replace(decodeSegment(t, good, 1), "user-1", "user-2", 1))) + "." + parts[2]

	cases := []struct {
		name string
		tok  string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"two segments", parts[0] + "." + parts[1], ErrMalformed},
		{"four segments", good + ".x", ErrMalformed},
		{"header not base64", "!!!." + parts[1] + "." + parts[2], ErrMalformed},
		{"header not json", base64.RawURLEncoding.EncodeToString([]byte("{")) + "." + parts[1] + "." + parts[2], ErrMalformed},
		{"claims not json", parts[0] + ".e30." + parts[2][:10], ErrMalformed},
		{"exp is a string", rawJWT(t, h, with(c, "exp", "soon"), k), ErrMalformed},
		{"sid is a number", rawJWT(t, h, with(c, "sid", 7), k), ErrMalformed},
		{"signature padding bits", malleated, ErrMalformed},
		{"alg none", rawJWT(t, with(h, "alg", "none"), c, nil), ErrAlgorithm},
		{"alg missing", rawJWT(t, with(h, "alg", nil), c, k), ErrAlgorithm},
		{"alg unknown", rawJWT(t, with(h, "alg", "Ed448"), c, k), ErrAlgorithm},
		{"alg HS256 keyed with public key", hsToken(t, with(h, "alg", "HS256"), c, pub), ErrAlgorithm},
		{"alg RS256", rawJWT(t, with(h, "alg", "RS256"), c, k), ErrAlgorithm},
		{"typ JWT", rawJWT(t, with(h, "typ", "JWT"), c, k), ErrMalformed},
		{"typ missing", rawJWT(t, with(h, "typ", nil), c, k), ErrMalformed},
		{"crit header", rawJWT(t, with(h, "crit", []string{"exp"}), c, k), ErrMalformed},
		{"kid missing", rawJWT(t, with(h, "kid", nil), c, k), ErrUnknownKey},
		{"kid unknown", rawJWT(t, with(h, "kid", "nope"), c, k), ErrUnknownKey},
		{"kid is a number", rawJWT(t, with(h, "kid", 1), c, k), ErrUnknownKey},
		{"signed by another key", rawJWT(t, h, c, other), ErrSignature},
		{"payload changed", tamperedPayload, ErrSignature},
		{"signature empty", rawJWT(t, h, c, nil), ErrSignature},
		{"wrong issuer", rawJWT(t, h, with(c, "iss", "https://evil.test"), k), ErrClaims},
		{"no issuer", rawJWT(t, h, with(c, "iss", nil), k), ErrClaims},
		{"wrong audience", rawJWT(t, h, with(c, "aud", "other"), k), ErrClaims},
		{"audience list without ours", rawJWT(t, h, with(c, "aud", []string{"a", "b"}), k), ErrClaims},
		{"no audience", rawJWT(t, h, with(c, "aud", nil), k), ErrClaims},
		{"no sub", rawJWT(t, h, with(c, "sub", nil), k), ErrClaims},
		{"no sid", rawJWT(t, h, with(c, "sid", nil), k), ErrClaims},
		{"empty sid", rawJWT(t, h, with(c, "sid", ""), k), ErrClaims},
		{"no jti", rawJWT(t, h, with(c, "jti", nil), k), ErrClaims},
		{"no iat", rawJWT(t, h, with(c, "iat", nil), k), ErrClaims},
		{"no exp", rawJWT(t, h, with(c, "exp", nil), k), ErrClaims},
		{"expired", rawJWT(t, h, with(c, "exp", t0.Add(-time.Minute).Unix()), k), ErrExpired},
		{"expired and foreign", rawJWT(t, h, with(c, "exp", t0.Add(-time.Minute).Unix(), "iss", "x"), k), ErrClaims},
		{"nbf in the future", rawJWT(t, h, with(c, "nbf", t0.Add(time.Minute).Unix()), k), ErrClaims},
		{"iat in the future", rawJWT(t, h, with(c, "iat", t0.Add(time.Minute).Unix()), k), ErrClaims},
	}
	sentinels := []error{ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrSignature, ErrExpired, ErrClaims}
	for _, cache := range []int{0, 64} {
		v := newTestVerifier(t, &fixedClock{t0}, cache, pub)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/cache=%d", tc.name, cache), func(t *testing.T) {
				for range 2 { // a refused token must stay refused: never cached
					c, err := v.Verify(tc.tok)
					if !errors.Is(err, tc.want) || c != nil {
						t.Fatalf("Verify = %v, %v; want %v", c, err, tc.want)
					}
					n := 0
					for _, s := range sentinels {
						if errors.Is(err, s) {
							n++
						}
					}
					if n != 1 {
						t.Fatalf("error %q matches %d sentinels, want exactly 1", err, n)
					}
					for _, seg := range strings.Split(tc.tok, ".") {
						if len(seg) >= 4 && strings.Contains(err.Error(), seg) {
							t.Fatalf("error text %q contains part of the token", err)
						}
					}
				}
				if v.cache != nil && v.cache.len() != 0 {
					t.Fatalf("refused token was cached")
				}
			})
		}
	}

	// And the accepting side of some of those edges.
	v := newTestVerifier(t, &fixedClock{t0}, 0, pub)
	for name, tok := range map[string]string{
		"typ application/at+jwt":  rawJWT(t, with(h, "typ", "application/at+jwt"), c, k),
		"typ upper case":          rawJWT(t, with(h, "typ", "AT+JWT"), c, k),
		"audience list with ours": rawJWT(t, h, with(c, "aud", []string{"other", testAudience}), k),
		"nbf within leeway":       rawJWT(t, h, with(c, "nbf", t0.Add(20*time.Second).Unix()), k),
		"iat within leeway":       rawJWT(t, h, with(c, "iat", t0.Add(20*time.Second).Unix()), k),
		"fractional times":        rawJWT(t, h, with(c, "iat", float64(t0.Unix())+0.5), k),
	} {
		if _, err := v.Verify(tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestVerifyTimesCachedAgree moves the clock around a token's lifetime and
// checks that a verifier answering from its cache agrees with a cold one at
// every step, boundaries included.
func TestVerifyTimesCachedAgree(t *testing.T) {
	t.Parallel()
	k := testKey(1)
	h, c := goodHeader(k), goodClaims()
	c["nbf"] = t0.Add(2 * time.Minute).Unix()
	c["iat"] = t0.Add(time.Minute).Unix()
	exp := t0.Add(15 * time.Minute)
	tok := rawJWT(t, h, c, k)
	issueTime := t0.Add(3 * time.Minute) // valid: after nbf and iat

	steps := []struct {
		at   time.Time
		want error
	}{
		{t0, ErrClaims}, // nbf - 2m: too early
		{t0.Add(2*time.Minute - 31*time.Second), ErrClaims}, // just outside the leeway
		{t0.Add(2*time.Minute - 30*time.Second), nil},       // leeway boundary: accepted
		{issueTime, nil},
		{exp, nil},
		{exp.Add(29 * time.Second), nil},
		{exp.Add(30 * time.Second), ErrExpired}, // exp + leeway: refused (exp is exclusive)
		{exp.Add(time.Hour), ErrExpired},
		{issueTime, nil}, // clock goes back (cache entry of an expired token is gone; cold again)
	}
	cold := &fixedClock{}
	warm := &fixedClock{issueTime}
	vCold := newTestVerifier(t, cold, 0, pubOf(k))
	vWarm := newTestVerifier(t, warm, 8, pubOf(k))
	if _, err := vWarm.Verify(tok); err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		cold.t, warm.t = s.at, s.at
		_, errCold := vCold.Verify(tok)
		_, errWarm := vWarm.Verify(tok)
		if !errors.Is(errCold, s.want) || (s.want == nil && errCold != nil) {
			t.Errorf("step %d (%v): cold err = %v, want %v", i, s.at.Sub(t0), errCold, s.want)
		}
		if !errors.Is(errWarm, s.want) || (s.want == nil && errWarm != nil) {
			t.Errorf("step %d (%v): cached err = %v, want %v", i, s.at.Sub(t0), errWarm, s.want)
		}
	}
}

func TestNewVerifier(t *testing.T) {
	t.Parallel()
	k1, k2 := pubOf(testKey(1)), pubOf(testKey(2))
	if _, err := NewVerifier("", testAudience, []ed25519.PublicKey{k1}); !errors.Is(err, ErrClaims) {
		t.Errorf("no issuer: %v", err)
	}
	if _, err := NewVerifier(testIssuer, "", []ed25519.PublicKey{k1}); !errors.Is(err, ErrClaims) {
		t.Errorf("no audience: %v", err)
	}
	if _, err := NewVerifier(testIssuer, testAudience, nil); !errors.Is(err, ErrKey) {
		t.Errorf("no keys: %v", err)
	}
	if _, err := NewVerifier(testIssuer, testAudience, []ed25519.PublicKey{k1, k2[:5]}); !errors.Is(err, ErrKey) {
		t.Errorf("short key: %v", err)
	}
	v, err := NewVerifier(testIssuer, testAudience, []ed25519.PublicKey{k1, k2, k1}, WithClock(nil), WithLeeway(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.KeyIDs(); len(got) != 2 || got[0] != KeyID(k1) || got[1] != KeyID(k2) {
		t.Errorf("KeyIDs = %v, want [kid1 kid2]", got)
	}
	if v.now == nil || v.leeway != 0 {
		t.Errorf("nil clock or negative leeway not normalised: now=%v leeway=%v", v.now != nil, v.leeway)
	}
}

func TestCacheBounded(t *testing.T) {
	t.Parallel()
	k := testKey(1)
	s := newTestSigner(t, k)
	const size = 64
	v := newTestVerifier(t, &fixedClock{t0}, size, pubOf(k))
	sign := func(i int) string {
		c := testClaims()
		c.JTI = fmt.Sprint("jti-", i)
		tok, err := s.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	hot := sign(-1)
	for i := range 1000 {
		if _, err := v.Verify(sign(i)); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(hot); err != nil {
			t.Fatal(err)
		}
		if n := v.cache.len(); n > size {
			t.Fatalf("cache holds %d entries, bound is %d", n, size)
		}
	}
	if n := v.cache.len(); n < size/4 {
		t.Fatalf("cache holds only %d entries after 1000 inserts", n)
	}
	// Between two uses of hot there is one insertion, so whatever shard it
	// is in rotates at most once: it must have survived every time.
	if _, ok := v.cache.get(hot); !ok {
		t.Fatal("a token used on every round fell out of the cache")
	}
	// 999 later tokens spread over 16 shards of capacity 4: the first one
	// is long gone (failing would need its shard to get < 4 of 999).
	if _, ok := v.cache.get(sign(0)); ok {
		t.Fatal("the oldest unused token is still cached")
	}
}

func TestCacheSmallSizes(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 2, 31, 32, 33} {
		c := newVerifiedCache(size)
		for i := range 500 {
			c.put(fmt.Sprint("token-", i), cacheEntry{})
		}
		if n := c.len(); n > max(size, 2*cacheShards) {
			t.Errorf("size %d: %d entries", size, n)
		}
	}
	v, err := NewVerifier(testIssuer, testAudience, []ed25519.PublicKey{pubOf(testKey(1))}, WithCache(10), WithCache(0))
	if err != nil || v.cache != nil {
		t.Errorf("WithCache(0) after WithCache(10) did not disable the cache")
	}
}

func TestVerifyConcurrent(t *testing.T) {
	t.Parallel()
	k := testKey(1)
	s := newTestSigner(t, k)
	v := newTestVerifier(t, &fixedClock{t0}, 16, pubOf(k))
	toks := make([]string, 40)
	for i := range toks {
		c := testClaims()
		c.JTI = fmt.Sprint("jti-", i)
		var err error
		if toks[i], err = s.Sign(c); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				n := (g*7 + i) % len(toks)
				c, err := v.Verify(toks[n])
				if err != nil || c.JTI != fmt.Sprint("jti-", n) {
					errs <- fmt.Errorf("token %d: %v, %v", n, c, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
