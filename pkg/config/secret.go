package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
)

// Secret is a configuration value that must never be printed: a bearer
// secret or a client secret. Printing it with any fmt verb, logging it with
// slog or marshalling it to JSON shows "[redacted]" (or "" when unset).
// string(s) is the one way to get the value, and should appear only where
// the value is sent to its rightful recipient.
type Secret string

// IsSet reports whether the secret was configured.
func (s Secret) IsSet() bool { return s != "" }

// Matches reports whether presented equals the secret, in time independent
// of where they differ and of their lengths (both are hashed to 32 bytes
// before a constant-time comparison). An unset secret matches nothing, so
// an unconfigured admin key refuses every caller.
func (s Secret) Matches(presented string) bool {
	if s == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(s)), sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func (s Secret) redacted() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// String hides the value (fmt's %v, %s, %q, %x all go through it).
func (s Secret) String() string { return s.redacted() }

// GoString hides the value from %#v.
func (s Secret) GoString() string { return `config.Secret("` + s.redacted() + `")` }

// LogValue hides the value from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.redacted()) }

// MarshalJSON hides the value from encoding/json.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.redacted() + `"`), nil }

// MarshalText hides the value from encoders using encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }
