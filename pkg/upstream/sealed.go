package upstream

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sessionkit/sessiond/pkg/seal"
)

// adPrefix separates this use of the encryption key from any other: a value
// sealed for another purpose with the same session id does not open here.
const adPrefix = "sessiond/upstream-tokens/v1\x00"

func tokensAD(sid string) []byte { return []byte(adPrefix + sid) }

// SealTokens encrypts t for session sid (AES-256-GCM, the associated data
// being sid behind a fixed purpose prefix) and returns unpadded URL-safe
// base64 text, fit for a Redis hash field. sid must not be empty.
func SealTokens(s *seal.Sealer, sid string, t Tokens) (string, error) {
	if s == nil {
		return "", errors.New("upstream: seal tokens: no sealer")
	}
	if sid == "" {
		return "", errors.New("upstream: seal tokens: empty session id")
	}
	b, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("upstream: seal tokens: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(s.Seal(b, tokensAD(sid))), nil
}

// OpenTokens reverses SealTokens. Any failure (not base64, altered, sealed
// for another session id or with another key, undecodable) wraps
// seal.ErrOpen and says no more.
func OpenTokens(s *seal.Sealer, sid string, text string) (Tokens, error) {
	fail := func() (Tokens, error) { return Tokens{}, fmt.Errorf("upstream: open tokens: %w", seal.ErrOpen) }
	if s == nil || sid == "" {
		return fail()
	}
	raw, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return fail()
	}
	b, err := s.Open(raw, tokensAD(sid))
	if err != nil {
		return fail()
	}
	var t Tokens
	if err := json.Unmarshal(b, &t); err != nil {
		return fail()
	}
	return t, nil
}
