package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/sessionkit/sessiond/pkg/token"
)

// setting is one variable as it may be shown: secrets reduced to "set",
// "unset" or "generated", keys to their kid.
//
// The printing methods have value receivers so that a Config value, not
// only a pointer, is redacted when printed.
type setting struct{ name, value string }

func (c Config) settings() []setting {
	generated := func(name string) bool { return contains(c.GeneratedKeys, name) }
	secret := func(s string) string {
		if s != "" {
			return "set"
		}
		return "unset"
	}
	privKey := "unset"
	if len(c.JWTPrivateKey) > 0 {
		privKey = "kid=" + token.KeyID(c.PublicKeys()[0])
		if generated("SESSION_JWT_PRIVATE_KEY") {
			privKey = "generated " + privKey
		}
	}
	prev := make([]string, len(c.JWTPreviousKeys))
	for i, k := range c.JWTPreviousKeys {
		prev[i] = "kid=" + token.KeyID(k)
	}
	encKey := "unset"
	switch {
	case generated("SESSION_ENCRYPTION_KEY"):
		encKey = "generated"
	case len(c.EncryptionKey) > 0:
		encKey = "set"
	}
	ftoa := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	return []setting{
		{"SESSION_ISSUER", c.Issuer},
		{"SESSION_AUDIENCE", c.Audience},
		{"SESSION_JWT_PRIVATE_KEY", privKey},
		{"SESSION_JWT_PREVIOUS_KEYS", strings.Join(prev, ",")},
		{"SESSION_ACCESS_TOKEN_TTL", c.AccessTokenTTL.String()},
		{"SESSION_IDLE_TIMEOUT", c.IdleTimeout.String()},
		{"SESSION_ABSOLUTE_TIMEOUT", c.AbsoluteTimeout.String()},
		{"SESSION_REFRESH_GRACE", c.RefreshGrace.String()},
		{"SESSION_MAX_PER_USER", strconv.Itoa(c.MaxPerUser)},
		{"SESSION_DEVICE_MATCH_THRESHOLD", ftoa(c.DeviceMatchThreshold)},
		{"SESSION_RISK_BLOCK", ftoa(c.RiskBlock)},
		{"SESSION_AUDIT_RETENTION", c.AuditRetention.String()},
		{"SESSION_ADMIN_KEY", secret(c.AdminKey)},
		{"SESSION_INTROSPECT_KEY", secret(c.IntrospectKey)},
		{"SESSION_ENCRYPTION_KEY", encKey},
		{"SESSION_ALLOWED_ORIGINS", strings.Join(c.AllowedOrigins, ",")},
		{"SESSION_RATE_LIMIT_SCALE", ftoa(c.RateLimitScale)},
		{"SESSION_TRUST_PROXY", strconv.FormatBool(c.TrustProxy)},
		{"SESSION_COOKIE_MODE", strconv.FormatBool(c.CookieMode)},
		{"CRON_SECRET", secret(c.CronSecret)},
		{"OIDC_ISSUER", c.OIDCIssuer},
		{"OIDC_CLIENT_ID", c.OIDCClientID},
		{"OIDC_CLIENT_SECRET", secret(c.OIDCClientSecret)},
		{"OIDC_REDIRECT_URIS", strings.Join(c.OIDCRedirectURIs, ",")},
		{"UPSTREAM_REFRESH_WINDOW", c.UpstreamRefreshWindow.String()},
		{"VERCEL_ENV", c.VercelEnv},
		{"ADDR", c.Addr},
	}
}

// String prints every setting on one line, secrets redacted:
// config{SESSION_ISSUER="http://localhost:3000" ... SESSION_ADMIN_KEY=set ...}.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("config{")
	for i, s := range c.settings() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(s.value))
	}
	b.WriteByte('}')
	return b.String()
}

// GoString is String, so %#v cannot dump the keys.
func (c Config) GoString() string { return c.String() }

// Format makes every fmt verb print String, so that no verb (%+v, %x, %d)
// can reach the fields.
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue lets slog.Any("config", cfg) log the redacted settings as a group.
func (c Config) LogValue() slog.Value {
	s := c.settings()
	attrs := make([]slog.Attr, len(s))
	for i, x := range s {
		attrs[i] = slog.String(x.name, x.value)
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes the redacted settings as an object keyed by variable
// name, so encoding a Config by mistake leaks nothing.
func (c Config) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range c.settings() {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(s.name)
		v, _ := json.Marshal(s.value)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}
