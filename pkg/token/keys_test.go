package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	mathrand "math/rand/v2"
	"strings"
	"testing"
)

func mustPEM(b []byte, err error) string {
	if err != nil {
		panic(err)
	}
	return string(b)
}

// pemBody returns the base64 body of a PEM text on one line.
func pemBody(p string) string {
	var body []string
	for _, l := range strings.Split(strings.TrimSpace(p), "\n") {
		if !strings.HasPrefix(l, "-----") {
			body = append(body, l)
		}
	}
	return strings.Join(body, "")
}

func TestParsePrivateKey(t *testing.T) {
	t.Parallel()
	k := testKey(1)
	good := mustPEM(EncodePrivateKeyPEM(k))
	pub := mustPEM(EncodePublicKeyPEM(pubOf(k)))
	body := pemBody(good)

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))

	ok := []struct{ name, in string }{
		{"newlines", good},
		{"escaped newlines", strings.ReplaceAll(good, "\n", `\n`)},
		{"crlf", strings.ReplaceAll(good, "\n", "\r\n")},
		{"escaped crlf", strings.ReplaceAll(good, "\n", `\r\n`)},
		{"collapsed to spaces", strings.ReplaceAll(good, "\n", " ")},
		{"no separators", "-----BEGIN PRIVATE KEY-----" + body + "-----END PRIVATE KEY-----"},
		{"surrounding text", "  # signing key\n" + good + "\n\n"},
		{"body split oddly", "-----BEGIN PRIVATE KEY-----\n" + body[:5] + "\n  " + body[5:] + "\n-----END PRIVATE KEY-----"},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrivateKey([]byte(tc.in))
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !got.Equal(k) {
				t.Fatal("parsed a different key")
			}
		})
	}

	bad := []struct{ name, in, want string }{
		{"empty", "", "no PEM block"},
		{"garbage", "not a key", "no PEM block"},
		{"public key", pub, `"PUBLIC KEY"`},
		{"two blocks", good + good, "2 PEM blocks"},
		{"ec label", strings.ReplaceAll(good, "PRIVATE KEY", "EC PRIVATE KEY"), `"EC PRIVATE KEY"`},
		{"encrypted", strings.ReplaceAll(good, "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), "encrypted"},
		{"headers", strings.Replace(good, "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1), "headers"},
		{"ecdsa", ecPEM, "want Ed25519"},
		{"not base64", "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----", "not base64"},
		{"not pkcs8", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "not a PKCS#8"},
		{"truncated", good[:len(good)-20], "no matching END"},
		{"unterminated begin", "-----BEGIN PRIVATE KEY\nabc", "unterminated"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePrivateKey([]byte(tc.in))
			if !errors.Is(err, ErrKey) {
				t.Fatalf("err = %v, want ErrKey", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %q, want it to mention %q", err, tc.want)
			}
			if len(body) > 8 && strings.Contains(err.Error(), body[:8]) {
				t.Fatalf("error text contains key material: %q", err)
			}
		})
	}
}

func TestParsePublicKeys(t *testing.T) {
	t.Parallel()
	k1, k2 := pubOf(testKey(1)), pubOf(testKey(2))
	p1 := mustPEM(EncodePublicKeyPEM(k1))
	p2 := mustPEM(EncodePublicKeyPEM(k2))
	priv := mustPEM(EncodePrivateKeyPEM(testKey(3)))
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER}))

	ok := []struct {
		name string
		in   string
		want []ed25519.PublicKey
	}{
		{"empty", "", nil},
		{"blank", " \n\t", nil},
		{"one", p1, []ed25519.PublicKey{k1}},
		{"two", p1 + p2, []ed25519.PublicKey{k1, k2}},
		{"two escaped on one line", strings.ReplaceAll(p2+p1, "\n", `\n`), []ed25519.PublicKey{k2, k1}},
		{"two collapsed", strings.ReplaceAll(p1+" "+p2, "\n", " "), []ed25519.PublicKey{k1, k2}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePublicKeys([]byte(tc.in))
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d keys, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !got[i].Equal(tc.want[i]) {
					t.Fatalf("key %d differs", i)
				}
			}
		})
	}

	bad := []struct{ name, in, want string }{
		{"garbage", "hello", "no PEM block"},
		{"private among them", p1 + priv, "block 2 is a private key"},
		{"certificate", p1 + strings.ReplaceAll(p2, "PUBLIC KEY", "CERTIFICATE"), `block 2 is "CERTIFICATE"`},
		{"ecdsa", ecPEM, "want Ed25519"},
		{"not pkix", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "not a PKIX"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePublicKeys([]byte(tc.in))
			if !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrKey mentioning %q", err, tc.want)
			}
		})
	}

	if _, err := ParsePublicKey([]byte(p1 + p2)); !errors.Is(err, ErrKey) {
		t.Errorf("ParsePublicKey of two blocks: err = %v", err)
	}
	if got, err := ParsePublicKey([]byte(p2)); err != nil || !got.Equal(k2) {
		t.Errorf("ParsePublicKey = %v, %v", got, err)
	}
}

// RFC 8037 Appendix A.1 and A.3: the example key and its JWK thumbprint.
func TestKeyIDRFC8037(t *testing.T) {
	t.Parallel()
	d, _ := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	x := "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
	pub := pubOf(ed25519.NewKeyFromSeed(d))
	if got := base64.RawURLEncoding.EncodeToString(pub); got != x {
		t.Fatalf("x = %s, want %s", got, x)
	}
	if got, want := KeyID(pub), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Fatalf("KeyID = %s, want %s", got, want)
	}
	if KeyID(pubOf(testKey(1))) == KeyID(pubOf(testKey(2))) {
		t.Fatal("different keys share a kid")
	}
}

func TestEncodeKeyErrors(t *testing.T) {
	t.Parallel()
	if _, err := EncodePrivateKeyPEM(ed25519.PrivateKey{1, 2}); !errors.Is(err, ErrKey) {
		t.Errorf("EncodePrivateKeyPEM(short) err = %v", err)
	}
	if _, err := EncodePublicKeyPEM(ed25519.PublicKey{1, 2}); !errors.Is(err, ErrKey) {
		t.Errorf("EncodePublicKeyPEM(short) err = %v", err)
	}
}

// ParsePrivateKey derives the public half without crypto/ed25519's
// fixed-base table (keys.go, parseEd25519PKCS8): the key it returns must be
// exactly what crypto/x509 returns, sign as crypto/ed25519 expects, and
// keys of another shape must still go through crypto/x509.
func TestParsePrivateKeyMatchesX509(t *testing.T) {
	r := mathrand.New(mathrand.NewPCG(3, 4))
	for i := range 200 {
		seed := make([]byte, ed25519.SeedSize)
		for j := range seed {
			seed[j] = byte(r.UintN(256))
		}
		if i == 0 {
			clear(seed)
		}
		want := ed25519.NewKeyFromSeed(seed)
		pemText, err := EncodePrivateKeyPEM(want)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(want)
		fast, ok := parseEd25519PKCS8(der)
		if !ok {
			t.Fatalf("seed %x: the common PKCS#8 shape was not recognised", seed)
		}
		got, err := ParsePrivateKey(pemText)
		if err != nil || !bytes.Equal(got, want) || !bytes.Equal(fast, want) {
			t.Fatalf("seed %x: parsed %x (%v), want %x", seed, got, err, want)
		}
		sig := ed25519.Sign(got, []byte("m")) // panics if the public half were wrong
		if !ed25519.Verify(want.Public().(ed25519.PublicKey), []byte("m"), sig) {
			t.Fatal("signature does not verify")
		}
	}
	// Other shapes are left to crypto/x509: a version 1 key with its public
	// key attached (RFC 5958 OneAsymmetricKey) parses the same, an RSA key
	// is refused by type, and a seed of the wrong length is refused.
	want := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	der, _ := x509.MarshalPKCS8PrivateKey(want)
	seedOctets, _ := asn1.Marshal(want.Seed())
	v2, _ := asn1.Marshal(struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
		Public     asn1.BitString `asn1:"tag:1,optional"`
	}{1, pkix.AlgorithmIdentifier{Algorithm: oidEd25519}, seedOctets, asn1.BitString{Bytes: want[32:], BitLength: 256}})
	if _, ok := parseEd25519PKCS8(v2); ok {
		t.Fatal("a version 1 key took the fast path")
	}
	if _, ok := parseEd25519PKCS8(append(der, 0)); ok {
		t.Fatal("trailing data took the fast path")
	}
	short, _ := asn1.Marshal(struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: oidEd25519}, mustMarshal(t, want.Seed()[:31])})
	if _, ok := parseEd25519PKCS8(short); ok {
		t.Fatal("a 31-byte seed took the fast path")
	}
	if _, err := ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: short})); err == nil {
		t.Fatal("a 31-byte seed was accepted")
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
