package token

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"

	"filippo.io/edwards25519"
)

// Key parsing is deliberately forgiving about layout and strict about
// content. Keys arrive through environment variables, and the web forms that
// edit those (Vercel's among them) mangle newlines: a PEM block may come with
// real newlines, with the two characters `\n` in their place, with CRLF, or
// collapsed onto one line with spaces. All of these are accepted. What is not
// accepted: any key that is not Ed25519, a private key that is not PKCS#8, an
// encrypted key, or a private key where only public keys belong.

// pemBlock is one -----BEGIN label----- ... -----END label----- block.
type pemBlock struct {
	label string
	der   []byte
}

// scanPEM finds every PEM block in text, in order. Text outside the blocks is
// ignored (as encoding/pem does). The base64 body may be split by any white
// space, or by none.
func scanPEM(text string) ([]pemBlock, error) {
	// Env UIs: literal backslash escapes instead of line breaks.
	text = strings.NewReplacer(`\r\n`, "\n", `\n`, "\n", `\r`, "\n").Replace(text)
	const begin, dashes = "-----BEGIN ", "-----"
	var blocks []pemBlock
	for {
		i := strings.Index(text, begin)
		if i < 0 {
			return blocks, nil
		}
		text = text[i+len(begin):]
		j := strings.Index(text, dashes)
		if j < 0 || strings.ContainsAny(text[:j], "\n") {
			return nil, fmt.Errorf("%w: PEM block %d: unterminated BEGIN line", ErrKey, len(blocks)+1)
		}
		label := text[:j]
		text = text[j+len(dashes):]
		end := "-----END " + label + dashes
		k := strings.Index(text, end)
		if k < 0 {
			return nil, fmt.Errorf("%w: PEM block %d (%q): no matching END line", ErrKey, len(blocks)+1, label)
		}
		body := strings.Join(strings.Fields(text[:k]), "")
		text = text[k+len(end):]
		if strings.Contains(body, ":") {
			return nil, fmt.Errorf("%w: PEM block %d (%q) has headers (encrypted keys are not supported)", ErrKey, len(blocks)+1, label)
		}
		der, err := base64.StdEncoding.DecodeString(body)
		if err != nil || len(der) == 0 {
			return nil, fmt.Errorf("%w: PEM block %d (%q): body is not base64", ErrKey, len(blocks)+1, label)
		}
		blocks = append(blocks, pemBlock{label: label, der: der})
	}
}

// ParsePrivateKey parses one PEM block "PRIVATE KEY" holding a PKCS#8
// Ed25519 key (what `openssl genpkey -algorithm ed25519` writes). Newlines
// may be real, `\n` escapes, or collapsed to spaces. Errors wrap ErrKey and
// never contain key material.
func ParsePrivateKey(pemText []byte) (ed25519.PrivateKey, error) {
	blocks, err := scanPEM(string(pemText))
	if err != nil {
		return nil, err
	}
	switch {
	case len(blocks) == 0:
		return nil, fmt.Errorf("%w: no PEM block found (want -----BEGIN PRIVATE KEY-----)", ErrKey)
	case len(blocks) > 1:
		return nil, fmt.Errorf("%w: %d PEM blocks found, want exactly one", ErrKey, len(blocks))
	}
	b := blocks[0]
	switch b.label {
	case "PRIVATE KEY":
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%w: encrypted private keys are not supported", ErrKey)
	default:
		return nil, fmt.Errorf("%w: PEM block is %q, want \"PRIVATE KEY\" (PKCS#8 Ed25519)", ErrKey, b.label)
	}
	if ek, ok := parseEd25519PKCS8(b.der); ok {
		return ek, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b.der)
	if err != nil {
		return nil, fmt.Errorf("%w: not a PKCS#8 private key", ErrKey)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: key type is %s, want Ed25519", ErrKey, keyTypeName(k))
	}
	return ek, nil
}

// oidEd25519 is the PKCS#8 algorithm of an Ed25519 key (RFC 8410).
var oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}

// parseEd25519PKCS8 reads the common shape of a PKCS#8 Ed25519 key (RFC
// 8410: version, the algorithm without parameters, the 32-byte seed in an
// OCTET STRING, nothing after) and derives its public half. Anything else
// reports false, and the caller lets crypto/x509 decide.
//
// Why not crypto/x509 alone: deriving the public half there goes through
// crypto/ed25519's fixed-base multiplication, whose precomputed table is
// built on first use in a process, about 1.4 ms on our machine (the second
// derivation takes 25-50 µs). On a serverless function that is on the path
// of every cold start, including the functions that never sign (they need
// only the public key). A variable-base multiplication by the generator
// builds no table and costs about 0.1 ms; the table is then built on the
// first signature instead, off the start path. TestParsePrivateKeyMatchesX509
// checks the result against crypto/x509 and crypto/ed25519.
func parseEd25519PKCS8(der []byte) (ed25519.PrivateKey, bool) {
	var k struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}
	rest, err := asn1.Unmarshal(der, &k)
	if err != nil || len(rest) != 0 || k.Version != 0 || !k.Algo.Algorithm.Equal(oidEd25519) || len(k.Algo.Parameters.FullBytes) != 0 {
		return nil, false
	}
	var seed []byte
	rest, err = asn1.Unmarshal(k.PrivateKey, &seed)
	if err != nil || len(rest) != 0 || len(seed) != ed25519.SeedSize {
		return nil, false
	}
	h := sha512.Sum512(seed)
	s, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	if err != nil {
		return nil, false
	}
	pub := new(edwards25519.Point).ScalarMult(s, edwards25519.NewGeneratorPoint()).Bytes()
	key := make(ed25519.PrivateKey, 0, ed25519.PrivateKeySize)
	return append(append(key, seed...), pub...), true
}

// ParsePublicKey parses exactly one PEM block "PUBLIC KEY" (PKIX) holding an
// Ed25519 public key. Errors wrap ErrKey.
func ParsePublicKey(pemText []byte) (ed25519.PublicKey, error) {
	keys, err := ParsePublicKeys(pemText)
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("%w: %d PEM blocks found, want exactly one", ErrKey, len(keys))
	}
	return keys[0], nil
}

// ParsePublicKeys parses zero or more concatenated PEM "PUBLIC KEY" blocks
// (PKIX, Ed25519), in order. Empty or blank text gives no keys and no error.
// A private key among them is refused rather than reduced to its public
// half: a retired signing key has no business being deployed. Errors wrap
// ErrKey and name the block by its 1-based position.
func ParsePublicKeys(pemText []byte) ([]ed25519.PublicKey, error) {
	text := string(pemText)
	blocks, err := scanPEM(text)
	if err != nil {
		return nil, err
	}
	if len(blocks) == 0 && strings.TrimSpace(text) != "" {
		return nil, fmt.Errorf("%w: no PEM block found (want -----BEGIN PUBLIC KEY-----)", ErrKey)
	}
	keys := make([]ed25519.PublicKey, 0, len(blocks))
	for i, b := range blocks {
		if b.label != "PUBLIC KEY" {
			if strings.Contains(b.label, "PRIVATE") {
				return nil, fmt.Errorf("%w: PEM block %d is a private key; list public keys only", ErrKey, i+1)
			}
			return nil, fmt.Errorf("%w: PEM block %d is %q, want \"PUBLIC KEY\"", ErrKey, i+1, b.label)
		}
		k, err := x509.ParsePKIXPublicKey(b.der)
		if err != nil {
			return nil, fmt.Errorf("%w: PEM block %d is not a PKIX public key", ErrKey, i+1)
		}
		ek, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: PEM block %d: key type is %s, want Ed25519", ErrKey, i+1, keyTypeName(k))
		}
		keys = append(keys, ek)
	}
	return keys, nil
}

// keyTypeName names a parsed key's type for error text without printing it.
func keyTypeName(k any) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", k), "*")
}

// EncodePrivateKeyPEM returns k as a PEM "PRIVATE KEY" block (PKCS#8), the
// format ParsePrivateKey and SESSION_JWT_PRIVATE_KEY expect.
func EncodePrivateKeyPEM(k ed25519.PrivateKey) ([]byte, error) {
	if len(k) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: private key has the wrong length", ErrKey)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot encode private key", ErrKey)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// EncodePublicKeyPEM returns k as a PEM "PUBLIC KEY" block (PKIX), the format
// ParsePublicKeys and SESSION_JWT_PREVIOUS_KEYS expect.
func EncodePublicKeyPEM(k ed25519.PublicKey) ([]byte, error) {
	if len(k) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: public key has the wrong length", ErrKey)
	}
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot encode public key", ErrKey)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// KeyID returns the RFC 7638 JWK thumbprint of an Ed25519 public key: the
// base64url (no padding) SHA-256 of the canonical JWK, whose required members
// for OKP keys (RFC 8037 §2) in lexicographic order are crv, kty, x:
//
//	{"crv":"Ed25519","kty":"OKP","x":"<base64url of the 32 key bytes>"}
//
// Anyone holding the JWKS can recompute it, so the kid commits to the key.
func KeyID(pub ed25519.PublicKey) string {
	canonical := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
