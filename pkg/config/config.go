package config

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/sessiond/pkg/token"
)

// Config is the service's configuration, read once per process from the
// environment by Load. Every field below names its variable and default;
// the table in SPEC.md is the contract. A Config is read-only after Load
// and safe to share. Printing it (fmt, log/slog, encoding/json) never shows
// a secret: see String. Compare presented bearer secrets with the fields in
// constant time (hash both, then crypto/subtle), and treat an empty field
// as "refuse everyone".
type Config struct {
	// Issuer is the iss claim of access tokens. SESSION_ISSUER, default
	// "http://localhost:3000". An absolute http or https URL, used as given.
	Issuer string

	// Audience is the aud claim of access tokens. SESSION_AUDIENCE, default
	// "sessions".
	Audience string

	// JWTPrivateKey signs access tokens (EdDSA). SESSION_JWT_PRIVATE_KEY: PEM
	// PKCS#8 Ed25519 ("-----BEGIN PRIVATE KEY-----", as written by
	// `openssl genpkey -algorithm ed25519`); real newlines, `\n` escapes or
	// newlines collapsed to spaces are all accepted. Default: generated at
	// start (development only: tokens die with the process, and every
	// instance has its own key). Required when VERCEL_ENV is set.
	JWTPrivateKey ed25519.PrivateKey

	// JWTPreviousKeys are retired signing keys whose tokens are still
	// accepted and whose public halves are still published in the JWKS, so a
	// key rotation logs nobody out. SESSION_JWT_PREVIOUS_KEYS: zero or more
	// concatenated PEM "PUBLIC KEY" blocks (PKIX Ed25519). Default empty.
	JWTPreviousKeys []ed25519.PublicKey

	// AccessTokenTTL is the access-token lifetime. SESSION_ACCESS_TOKEN_TTL,
	// default 15m; > 0.
	AccessTokenTTL time.Duration

	// IdleTimeout ends a session after this long without a refresh or use.
	// SESSION_IDLE_TIMEOUT, default 24h; > 0 and <= AbsoluteTimeout.
	IdleTimeout time.Duration

	// AbsoluteTimeout ends a session this long after its creation, whatever
	// happens. SESSION_ABSOLUTE_TIMEOUT, default 168h; > 0.
	AbsoluteTimeout time.Duration

	// RefreshGrace is how long a just-rotated refresh token may be presented
	// again (racing tabs) and get the same successor instead of ending the
	// session. SESSION_REFRESH_GRACE, default 10s; >= 0 (0: no grace, any
	// reuse is theft).
	RefreshGrace time.Duration

	// MaxPerUser is the number of concurrent sessions per user; the oldest
	// is ended when a new one exceeds it. SESSION_MAX_PER_USER, default 10;
	// > 0.
	MaxPerUser int

	// DeviceMatchThreshold is the minimum fingerprint similarity to count as
	// the same device. SESSION_DEVICE_MATCH_THRESHOLD, default 0.8; in [0,1].
	DeviceMatchThreshold float64

	// RiskBlock is the risk score at or above which a refresh is refused and
	// the session suspended. SESSION_RISK_BLOCK, default 0.7; in [0,1].
	RiskBlock float64

	// AuditRetention is how long audit events are kept; older ones are
	// pruned by the cron. SESSION_AUDIT_RETENTION, default 720h; > 0.
	AuditRetention time.Duration

	// AdminKey is the bearer secret of trusted back ends. SESSION_ADMIN_KEY,
	// default unset (admin calls refused); when set, at least 16 bytes.
	AdminKey string

	// IntrospectKey is the bearer secret of resource servers (introspection
	// only). SESSION_INTROSPECT_KEY, default unset; when set, >= 16 bytes.
	IntrospectKey string

	// EncryptionKey (32 bytes) encrypts upstream tokens at rest and keys the
	// refresh-token MACs (token.NewRefreshKeys). SESSION_ENCRYPTION_KEY:
	// base64, standard or URL alphabet, padded or not (`openssl rand -base64
	// 32`). Default: generated at start (development only: every refresh
	// token dies with the process). Required when VERCEL_ENV is set.
	EncryptionKey []byte

	// AllowedOrigins are the origins CORS allows, normalised as browsers
	// send them (lower case, no default port, no trailing slash), e.g.
	// "https://app.example.com". SESSION_ALLOWED_ORIGINS: comma-separated,
	// default empty (no cross-origin access). "*" is refused.
	AllowedOrigins []string

	// RateLimitScale multiplies every rate limit; 0 turns rate limiting off
	// (load tests only; see Warnings). SESSION_RATE_LIMIT_SCALE, default 1;
	// >= 0.
	RateLimitScale float64

	// TrustProxy makes the local server take the client IP from
	// X-Forwarded-For (only behind a proxy you run). SESSION_TRUST_PROXY,
	// default false ("0").
	TrustProxy bool

	// CronSecret authenticates Vercel's cron calls (Authorization: Bearer).
	// CRON_SECRET, default unset (cron refused); when set, >= 16 bytes.
	CronSecret string

	// OIDCIssuer is the upstream provider; discovery is at
	// OIDCIssuer + "/.well-known/openid-configuration". OIDC_ISSUER, default
	// unset (no upstream). An absolute https URL (http only for a loopback
	// host), used exactly as given: it must equal the provider's "issuer".
	OIDCIssuer string

	// OIDCClientID is this service's client id at the provider.
	// OIDC_CLIENT_ID, default unset; required when OIDCIssuer is set.
	OIDCClientID string

	// OIDCClientSecret is the client secret at the provider. OIDC_CLIENT_SECRET,
	// default unset (a public client using PKCE only).
	OIDCClientSecret string

	// OIDCRedirectURIs are the redirect URIs a code exchange may name.
	// OIDC_REDIRECT_URIS: comma-separated absolute URIs without fragment,
	// default empty.
	OIDCRedirectURIs []string

	// UpstreamRefreshWindow: upstream tokens are refreshed this long before
	// they expire. UPSTREAM_REFRESH_WINDOW, default 5m; > 0.
	UpstreamRefreshWindow time.Duration

	// CookieMode makes the refresh token travel only in a __Host- cookie,
	// never in a response body. SESSION_COOKIE_MODE, default false ("0").
	CookieMode bool

	// VercelEnv is Vercel's deployment environment ("production",
	// "preview", "development"), empty when not on Vercel. VERCEL_ENV. When
	// not empty, the signing and encryption keys must be configured.
	VercelEnv string

	// Addr is where cmd/sessiond listens. ADDR (host:port, e.g.
	// ":8080" for every interface) wins over PORT (which keeps the loopback
	// host: 127.0.0.1:$PORT); default "127.0.0.1:3000". Port 0 picks a free
	// port.
	Addr string

	// GeneratedKeys names the variables whose values were generated at
	// start because they were unset (SESSION_JWT_PRIVATE_KEY,
	// SESSION_ENCRYPTION_KEY). Empty on Vercel, where both are required.
	// The server should log a warning (see Warnings).
	GeneratedKeys []string
}

// Defaults of the variables that have one.
const (
	DefaultIssuer                = "http://localhost:3000"
	DefaultAudience              = "sessions"
	DefaultAccessTokenTTL        = 15 * time.Minute
	DefaultIdleTimeout           = 24 * time.Hour
	DefaultAbsoluteTimeout       = 168 * time.Hour
	DefaultRefreshGrace          = 10 * time.Second
	DefaultMaxPerUser            = 10
	DefaultDeviceMatchThreshold  = 0.8
	DefaultRiskBlock             = 0.7
	DefaultAuditRetention        = 720 * time.Hour
	DefaultRateLimitScale        = 1.0
	DefaultUpstreamRefreshWindow = 5 * time.Minute
	DefaultAddr                  = "127.0.0.1:3000"
)

// Load reads the configuration through getenv (os.Getenv when nil), checks
// every variable, and returns either a complete Config or an error. The
// error is one line naming each bad variable ("config: NAME: reason"; see
// VarError) and never contains a secret. Surrounding white space of every
// value is ignored; an empty value counts as unset.
//
// Unset keys are generated (crypto/rand) unless VERCEL_ENV is set, in which
// case they are required: a generated key on a serverless platform would
// differ per instance and per cold start.
func Load(getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	e := &env{getenv: getenv}
	c := &Config{VercelEnv: e.get("VERCEL_ENV")}

	c.Issuer = e.get("SESSION_ISSUER")
	if c.Issuer == "" {
		c.Issuer = DefaultIssuer
	} else if _, ok := httpURL(c.Issuer); !ok {
		e.fail("SESSION_ISSUER", "%s is not an absolute http(s) URL without query or fragment", show(c.Issuer))
	}
	c.Audience = e.get("SESSION_AUDIENCE")
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}

	c.loadKeys(e)

	c.AccessTokenTTL = e.duration("SESSION_ACCESS_TOKEN_TTL", DefaultAccessTokenTTL, 1)
	c.IdleTimeout = e.duration("SESSION_IDLE_TIMEOUT", DefaultIdleTimeout, 1)
	c.AbsoluteTimeout = e.duration("SESSION_ABSOLUTE_TIMEOUT", DefaultAbsoluteTimeout, 1)
	if c.IdleTimeout > c.AbsoluteTimeout {
		e.fail("SESSION_IDLE_TIMEOUT", "%v is longer than SESSION_ABSOLUTE_TIMEOUT (%v)", c.IdleTimeout, c.AbsoluteTimeout)
	}
	c.RefreshGrace = e.duration("SESSION_REFRESH_GRACE", DefaultRefreshGrace, 0)
	c.MaxPerUser = e.positiveInt("SESSION_MAX_PER_USER", DefaultMaxPerUser)
	c.DeviceMatchThreshold = e.fraction("SESSION_DEVICE_MATCH_THRESHOLD", DefaultDeviceMatchThreshold)
	c.RiskBlock = e.fraction("SESSION_RISK_BLOCK", DefaultRiskBlock)
	c.AuditRetention = e.duration("SESSION_AUDIT_RETENTION", DefaultAuditRetention, 1)

	c.AdminKey = e.secret("SESSION_ADMIN_KEY")
	c.IntrospectKey = e.secret("SESSION_INTROSPECT_KEY")
	c.CronSecret = e.secret("CRON_SECRET")

	for _, o := range e.list("SESSION_ALLOWED_ORIGINS") {
		n, err := origin(o)
		if err != nil {
			e.fail("SESSION_ALLOWED_ORIGINS", "%v", err)
			continue
		}
		if !contains(c.AllowedOrigins, n) {
			c.AllowedOrigins = append(c.AllowedOrigins, n)
		}
	}

	c.RateLimitScale = e.nonNegative("SESSION_RATE_LIMIT_SCALE", DefaultRateLimitScale)
	c.TrustProxy = e.boolean("SESSION_TRUST_PROXY", false)
	c.CookieMode = e.boolean("SESSION_COOKIE_MODE", false)

	c.loadOIDC(e)
	c.UpstreamRefreshWindow = e.duration("UPSTREAM_REFRESH_WINDOW", DefaultUpstreamRefreshWindow, 1)

	c.Addr = DefaultAddr
	if addr := e.get("ADDR"); addr != "" {
		if !listenAddr(addr) {
			e.fail("ADDR", "%s is not host:port (e.g. 127.0.0.1:3000 or :8080)", show(addr))
		} else {
			c.Addr = addr
		}
	} else if port := e.get("PORT"); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			e.fail("PORT", "%s is not a port number (0-65535)", show(port))
		} else {
			c.Addr = "127.0.0.1:" + strconv.Itoa(n)
		}
	}

	if err := joinErrors(e.errs); err != nil {
		return nil, err
	}
	return c, nil
}

// loadKeys reads or generates the signing and encryption keys.
func (c *Config) loadKeys(e *env) {
	const priv, prev, enc = "SESSION_JWT_PRIVATE_KEY", "SESSION_JWT_PREVIOUS_KEYS", "SESSION_ENCRYPTION_KEY"
	onVercel := c.VercelEnv != ""

	if v := e.get(priv); v != "" {
		k, err := token.ParsePrivateKey([]byte(v))
		if err != nil {
			e.fail(priv, "%s", keyReason(err))
		}
		c.JWTPrivateKey = k
	} else if onVercel {
		e.fail(priv, "required when VERCEL_ENV is set (generate one with: openssl genpkey -algorithm ed25519)")
	} else {
		_, k, err := ed25519.GenerateKey(nil)
		if err != nil {
			e.fail(priv, "cannot generate a key: %v", err)
		}
		c.JWTPrivateKey = k
		c.GeneratedKeys = append(c.GeneratedKeys, priv)
	}

	keys, err := token.ParsePublicKeys([]byte(e.get(prev)))
	if err != nil {
		e.fail(prev, "%s", keyReason(err))
	}
	c.JWTPreviousKeys = keys

	if v := e.get(enc); v != "" {
		b, ok := decodeKey(v)
		switch {
		case len(v) == 64 && isHex(v): // valid base64 too, but of 48 bytes
			e.fail(enc, "looks like hex; give the 32 bytes in base64 (openssl rand -base64 32)")
		case !ok:
			e.fail(enc, "not valid base64 (openssl rand -base64 32)")
		case len(b) != 32:
			e.fail(enc, "decodes to %d bytes, want 32 (openssl rand -base64 32)", len(b))
		case bytes.Equal(b, make([]byte, 32)):
			e.fail(enc, "is all zero bytes; use a random key (openssl rand -base64 32)")
		default:
			c.EncryptionKey = b
		}
	} else if onVercel {
		e.fail(enc, "required when VERCEL_ENV is set (generate one with: openssl rand -base64 32)")
	} else {
		c.EncryptionKey = make([]byte, 32)
		if _, err := rand.Read(c.EncryptionKey); err != nil {
			e.fail(enc, "cannot generate a key: %v", err)
		}
		c.GeneratedKeys = append(c.GeneratedKeys, enc)
	}
}

// keyReason is the token package's key error without its prefix: the
// variable name already says what the line is about.
func keyReason(err error) string {
	return strings.TrimPrefix(err.Error(), token.ErrKey.Error()+": ")
}

// loadOIDC reads the upstream provider settings. They go together: any of
// them without OIDC_ISSUER, or an issuer without a client id, is an error.
func (c *Config) loadOIDC(e *env) {
	c.OIDCIssuer = e.get("OIDC_ISSUER")
	c.OIDCClientID = e.get("OIDC_CLIENT_ID")
	c.OIDCClientSecret = e.get("OIDC_CLIENT_SECRET")
	for _, u := range e.list("OIDC_REDIRECT_URIS") {
		if !redirectURI(u) {
			e.fail("OIDC_REDIRECT_URIS", "%s is not an absolute URI without fragment", show(u))
			continue
		}
		c.OIDCRedirectURIs = append(c.OIDCRedirectURIs, u)
	}
	if c.OIDCIssuer == "" {
		for _, v := range []struct {
			name string
			set  bool
		}{
			{"OIDC_CLIENT_ID", c.OIDCClientID != ""},
			{"OIDC_CLIENT_SECRET", c.OIDCClientSecret != ""},
			{"OIDC_REDIRECT_URIS", len(c.OIDCRedirectURIs) > 0},
		} {
			if v.set {
				e.fail(v.name, "set without OIDC_ISSUER")
			}
		}
		return
	}
	if _, ok := httpURL(c.OIDCIssuer); !ok {
		e.fail("OIDC_ISSUER", "%s is not an absolute http(s) URL without query or fragment", show(c.OIDCIssuer))
	} else if u, _ := url.Parse(c.OIDCIssuer); u.Scheme != "https" && !isLoopback(u.Hostname()) {
		// The provider's keys and tokens travel over this; plain http only
		// for a provider on this machine (tests, local mocks).
		e.fail("OIDC_ISSUER", "%s must be https (http only for localhost)", show(c.OIDCIssuer))
	}
	if c.OIDCClientID == "" {
		e.fail("OIDC_CLIENT_ID", "required when OIDC_ISSUER is set")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// PublicKeys returns the verification keys, current first: the public half
// of JWTPrivateKey, then JWTPreviousKeys. It is what token.NewVerifier takes.
func (c *Config) PublicKeys() []ed25519.PublicKey {
	keys := make([]ed25519.PublicKey, 0, 1+len(c.JWTPreviousKeys))
	if len(c.JWTPrivateKey) == ed25519.PrivateKeySize {
		keys = append(keys, c.JWTPrivateKey.Public().(ed25519.PublicKey))
	}
	return append(keys, c.JWTPreviousKeys...)
}

// OIDCEnabled reports whether an upstream provider is configured.
func (c *Config) OIDCEnabled() bool { return c.OIDCIssuer != "" }

// RateLimitEnabled reports whether rate limiting is on (scale > 0).
func (c *Config) RateLimitEnabled() bool { return c.RateLimitScale > 0 }

// Warnings returns the lines the server should log at start: settings that
// are allowed but unsafe outside development or load tests.
func (c *Config) Warnings() []string {
	var w []string
	for _, name := range c.GeneratedKeys {
		w = append(w, fmt.Sprintf("%s is not set: generated a random one for this process (development only; tokens will not survive a restart)", name))
	}
	if c.VercelEnv != "" && c.Issuer == DefaultIssuer {
		w = append(w, "SESSION_ISSUER is not set: access tokens carry iss="+DefaultIssuer+" on a Vercel deployment")
	}
	if c.RateLimitScale == 0 {
		w = append(w, "SESSION_RATE_LIMIT_SCALE=0: rate limiting is off (load tests only)")
	}
	return w
}
