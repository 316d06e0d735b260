package seal

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// GenerateKey returns a new random KeySize-byte key (for development, where
// SESSION_ENCRYPTION_KEY may be left unset; values sealed with it do not
// survive a restart).
func GenerateKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k)
	return k
}

// ParseKey decodes a base64 key as SESSION_ENCRYPTION_KEY holds it. Standard
// and URL-safe alphabets, with or without padding, are accepted; surrounding
// spaces are ignored. The decoded key must be exactly KeySize bytes, else the
// error wraps ErrKeySize. The error never repeats the input.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	k, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("seal: key is not valid base64")
	}
	if len(k) != KeySize {
		return nil, fmt.Errorf("%w (decoded %d bytes)", ErrKeySize, len(k))
	}
	return k, nil
}
