package token

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"testing"
)

func TestJWKS(t *testing.T) {
	t.Parallel()
	cur, prev := testKey(1), testKey(2)
	v := newTestVerifier(t, &fixedClock{t0}, 0, pubOf(cur), pubOf(prev))
	doc := v.JWKS()

	var parsed struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(doc, &parsed); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	if len(parsed.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2", len(parsed.Keys))
	}
	for i, k := range []ed25519.PrivateKey{cur, prev} {
		got := parsed.Keys[i]
		want := map[string]string{
			"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA",
			"kid": KeyID(pubOf(k)), "x": base64.RawURLEncoding.EncodeToString(pubOf(k)),
		}
		if len(got) != len(want) {
			t.Errorf("key %d has members %v, want exactly %v", i, got, want)
		}
		for m, w := range want {
			if got[m] != w {
				t.Errorf("key %d: %s = %q, want %q", i, m, got[m], w)
			}
		}
		if _, ok := got["d"]; ok {
			t.Errorf("key %d has a private part", i)
		}
		// The private key's seed must not appear in any encoding.
		seed := k.Seed()
		for _, enc := range []string{base64.RawURLEncoding.EncodeToString(seed), base64.StdEncoding.EncodeToString(seed)} {
			if bytes.Contains(doc, []byte(enc[:20])) {
				t.Errorf("JWKS contains key %d's seed", i)
			}
		}
	}
	if bytes.Contains(doc, []byte(`"d"`)) {
		t.Error(`JWKS contains "d"`)
	}
	// Each call is a copy: changing one does not change the next.
	doc[0] = 'X'
	if v.JWKS()[0] != '{' {
		t.Error("JWKS returned shared storage")
	}
}
