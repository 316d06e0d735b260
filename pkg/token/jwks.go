package token

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
)

// jwk is one public key as published (RFC 7517, RFC 8037 for OKP). There is
// no field for the private part "d": the type cannot express it.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

func buildJWKS(order []string, keys map[string]ed25519.PublicKey) []byte {
	doc := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(order))}
	for _, kid := range order {
		doc.Keys = append(doc.Keys, jwk{
			Kty: "OKP",
			Crv: "Ed25519",
			X:   base64.RawURLEncoding.EncodeToString(keys[kid]),
			Kid: kid,
			Use: "sig",
			Alg: "EdDSA",
		})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic("token: marshal JWKS: " + err.Error()) // strings only: cannot fail
	}
	return b
}

// JWKS returns the JSON Web Key Set of the verifier's keys, current first:
//
//	{"keys":[{"kty":"OKP","crv":"Ed25519","x":"...","kid":"...","use":"sig","alg":"EdDSA"}, ...]}
//
// It is what GET /api/jwks serves. Only public keys exist in a Verifier, so
// no private part can appear. The document is built once by NewVerifier;
// each call returns a fresh copy the caller may keep or modify.
func (v *Verifier) JWKS() []byte {
	return append([]byte(nil), v.jwks...)
}

// KeyIDs returns the kids the verifier accepts, current first.
func (v *Verifier) KeyIDs() []string {
	return append([]string(nil), v.order...)
}
