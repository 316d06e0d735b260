// Package seal encrypts small secrets at rest with AES-256-GCM, bound to a
// context string (the associated data) so that a sealed value copied from one
// place to another does not open.
//
// # Format
//
// A sealed value is
//
//	version (1 byte, 0x01) || nonce (12 random bytes) || ciphertext || tag (16 bytes)
//
// The version byte is authenticated too: it is prepended to the caller's
// associated data, so flipping it cannot make an old-format reader accept a
// value. Overhead is 29 bytes per value.
//
// # Associated data
//
// Callers pass what the value belongs to as associated data: pkg/upstream
// passes the session id, so the provider tokens of session A, copied into
// session B's record in the store, fail to open. The associated data is not
// stored in the sealed value; the caller must know it when opening.
//
// # Nonces and limits
//
// Nonces are 96 random bits from crypto/rand. NIST SP 800-38D §8.3 bounds
// random-nonce GCM to 2^32 messages per key; one message per upstream refresh
// is far below that. Rotating SESSION_ENCRYPTION_KEY is the remedy if it ever
// is not.
//
// # Errors
//
// Open reports every failure (truncated input, unknown version, tampered
// bytes, wrong key, wrong associated data) as ErrOpen and nothing more:
// telling an attacker which check failed helps only the attacker.
package seal
