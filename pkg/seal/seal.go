package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// version1 marks AES-256-GCM with a 12-byte random nonce prefix.
const version1 byte = 0x01

const (
	nonceSize = 12
	tagSize   = 16
	// Overhead is how many bytes Seal adds to the plaintext.
	Overhead = 1 + nonceSize + tagSize
)

// ErrOpen is returned by Open for every sealed value it refuses: too short,
// an unknown version byte, altered bytes, another key or other associated
// data. Which of these it was is deliberately not said.
var ErrOpen = errors.New("seal: cannot open sealed value")

// ErrKeySize is returned by New for a key that is not exactly KeySize bytes.
var ErrKeySize = errors.New("seal: key must be 32 bytes")

// Sealer seals and opens values with one key. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// New returns a Sealer for key, which must be exactly KeySize (32) bytes,
// else ErrKeySize. The key is copied by the cipher; the caller may reuse the
// slice.
func New(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w (got %d)", ErrKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext bound to ad and returns a new slice in the format
// described in the package doc. Each call draws a fresh random nonce, so
// sealing the same input twice gives different outputs.
func (s *Sealer) Seal(plaintext, ad []byte) []byte {
	out := make([]byte, 1+nonceSize, Overhead+len(plaintext))
	out[0] = version1
	// crypto/rand.Read never returns an error (it aborts the program if the
	// system's generator fails), so there is nothing to handle here.
	_, _ = rand.Read(out[1 : 1+nonceSize])
	return s.aead.Seal(out, out[1:1+nonceSize], plaintext, versionedAD(version1, ad))
}

// Open authenticates and decrypts a value made by Seal with the same key and
// the same ad. It returns ErrOpen for anything else, including a nil or
// truncated input.
func (s *Sealer) Open(sealed, ad []byte) ([]byte, error) {
	if len(sealed) < Overhead || sealed[0] != version1 {
		return nil, ErrOpen
	}
	nonce := sealed[1 : 1+nonceSize]
	pt, err := s.aead.Open(nil, nonce, sealed[1+nonceSize:], versionedAD(version1, ad))
	if err != nil {
		return nil, ErrOpen
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// versionedAD authenticates the version byte along with the caller's data.
func versionedAD(v byte, ad []byte) []byte {
	b := make([]byte, 0, 1+len(ad))
	b = append(b, v)
	return append(b, ad...)
}
