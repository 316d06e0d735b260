// Package token makes and checks the service's tokens: access tokens (signed
// JWTs anyone can verify offline with the JWKS) and refresh tokens (opaque,
// authenticated strings whose successors are derived, not stored).
//
// # Access tokens
//
// An access token is an RFC 9068 JWT signed with Ed25519:
//
//	header  {"alg":"EdDSA","kid":"<RFC 7638 thumbprint>","typ":"at+jwt"}
//	claims  {"iss":...,"aud":...,"sub":...,"sid":...,"jti":...,"iat":...,"exp":...,"scope":...}
//
// A Signer (built once per process) issues them; signing is deterministic,
// so the same AccessClaims always give the same token bytes. A Verifier holds
// the current public key and any previous ones (key rotation: publish the old
// public key in SESSION_JWT_PREVIOUS_KEYS for at least one access-token
// lifetime), pins alg to EdDSA, requires typ at+jwt, a known kid, the
// expected iss and aud, and checks exp, nbf and iat against an injected
// clock with a 30 s leeway. Its JWKS method returns the key set served at
// /api/jwks.
//
// Verify answers "is this a genuine, unexpired token of ours"; it does not
// know about revocation. The session core checks revocation and session
// state in the store on every call, so the optional cache of verified
// tokens (WithCache) trades no security for speed: a cached token is still
// subject to its exp, and still looked up in the store.
//
// # Refresh tokens
//
//	"rt1." + base64url( sid[16] || gen[4] || secret[32] || HMAC tag[16] )
//
// RefreshKeys, derived with HKDF from SESSION_ENCRYPTION_KEY, authenticates
// the encoding (Parse refuses any altered byte with ErrMalformed before any
// store access), derives each successor from its predecessor (Next, so
// racing requests get the same successor) and the access-token id of each
// generation (JTI). Only Hash(r) is ever stored.
//
// # Errors
//
// Every error wraps one of ErrMalformed, ErrAlgorithm, ErrUnknownKey,
// ErrSignature, ErrExpired, ErrClaims or ErrKey. None contains a token, a
// key or any text taken from the input.
package token
