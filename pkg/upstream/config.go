package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults for the zero values of Config and RetryPolicy.
const (
	DefaultRefreshWindow   = 5 * time.Minute  // UPSTREAM_REFRESH_WINDOW
	DefaultRotationGrace   = 2 * time.Minute  // how long a rotated-away refresh token is kept
	DefaultDiscoveryTTL    = time.Hour        // discovery document and JWKS lifetime per instance
	DefaultKeyRefetchEvery = 30 * time.Second // least time between JWKS fetches for unknown kids
	DefaultRequestTimeout  = 3 * time.Second  // one HTTP attempt
	DefaultRevokeTimeout   = 2 * time.Second  // a whole Revoke call
	DefaultMaxAttempts     = 3
	DefaultBaseDelay       = 100 * time.Millisecond
	DefaultMaxDelay        = time.Second
	DefaultRetryBudget     = 5 * time.Second
)

// Client authentication methods at the provider's token, introspection and
// revocation endpoints (OpenID Connect Core §9, RFC 8414 §2).
const (
	// AuthMethodBasic sends client id and secret in an HTTP Basic header,
	// each form-urlencoded first (RFC 6749 §2.3.1). Every compliant provider
	// must support it.
	AuthMethodBasic = "client_secret_basic"
	// AuthMethodPost sends them as client_id and client_secret form fields.
	AuthMethodPost = "client_secret_post"
	// AuthMethodNone sends only client_id (a public client, no secret).
	AuthMethodNone = "none"
)

// RetryPolicy bounds the retries of one call to the provider. Retries happen
// on network errors, timeouts, 408, 429 and 5xx (and the OAuth errors
// temporarily_unavailable and server_error); never on invalid_grant or any
// other answer that says the request itself is wrong.
//
// The delay before retry n (n = 1, 2, ...) is "full jitter" (see the AWS
// Architecture Blog, "Exponential Backoff And Jitter"): a uniformly random
// duration in [0, min(MaxDelay, BaseDelay·2^(n-1))], raised to the provider's
// Retry-After when it sent one. Full jitter spreads the retries of many
// instances that failed at the same moment instead of having them return in
// lock step.
type RetryPolicy struct {
	// MaxAttempts is the most attempts per call, the first included; 1
	// disables retries. Default DefaultMaxAttempts (3).
	MaxAttempts int
	// BaseDelay is the backoff cap before the first retry, doubled for each
	// further one. Default DefaultBaseDelay (100ms).
	BaseDelay time.Duration
	// MaxDelay caps the backoff (not a provider's Retry-After). Default
	// DefaultMaxDelay (1s).
	MaxDelay time.Duration
	// Budget is the most time one call may take, waits and attempts
	// together, discovery included. A retry whose wait would end past it is
	// not made: the call fails with ErrUnavailable at once, with the wait as
	// its RetryAfter. Default DefaultRetryBudget (5s), well inside a
	// serverless function's time limit.
	Budget time.Duration
}

// Config configures a Provider. The zero value of every optional field
// means its documented default.
type Config struct {
	// Issuer is the provider's issuer URL (OIDC_ISSUER), exactly as it
	// appears in its ID tokens' iss claim; discovery is fetched from
	// Issuer + "/.well-known/openid-configuration". Required. It must be
	// https, except for loopback hosts (localhost, 127.0.0.0/8, ::1) used in
	// development and tests.
	Issuer string
	// ClientID is this service's client id at the provider (OIDC_CLIENT_ID),
	// also the audience ID tokens must carry. Required.
	ClientID string
	// ClientSecret (OIDC_CLIENT_SECRET) authenticates the client at the
	// provider. Empty means a public client (AuthMethodNone).
	ClientSecret string
	// RedirectURIs (OIDC_REDIRECT_URIS) are the only redirect URIs Exchange
	// accepts, compared as exact strings (OAuth 2.1 §2.3.1; RFC 9700 §4.1.3).
	// Empty means every Exchange fails with ErrRedirectURI.
	RedirectURIs []string
	// AuthMethod is how the client authenticates at the provider, one of
	// AuthMethodBasic, AuthMethodPost, AuthMethodNone. Default: AuthMethodNone
	// without a secret; else AuthMethodBasic when the provider lists it in
	// token_endpoint_auth_methods_supported or lists nothing (the RFC 8414
	// default), else AuthMethodPost when listed, else AuthMethodBasic.
	// There is no "try one, then the other" probing: a probe doubles the
	// requests and muddles retries. Set AuthMethodPost for providers that
	// list client_secret_basic but do not accept it (mockoidc).
	AuthMethod string

	// RefreshWindow (UPSTREAM_REFRESH_WINDOW): tokens expiring within it
	// are due for a proactive refresh. Default DefaultRefreshWindow (5m).
	RefreshWindow time.Duration
	// RotationGrace is how long Refresh keeps the previous refresh token
	// after the provider rotated it (Tokens.PrevRefreshUntil).
	// Default DefaultRotationGrace (2m).
	RotationGrace time.Duration

	// Retry bounds retries of calls to the provider; see RetryPolicy.
	Retry RetryPolicy
	// RequestTimeout bounds one HTTP attempt (and the discovery or JWKS
	// fetch). Default DefaultRequestTimeout (3s).
	RequestTimeout time.Duration
	// RevokeTimeout bounds a whole Revoke call; revocation is best effort
	// and must not hold up ending a session. Default DefaultRevokeTimeout (2s).
	RevokeTimeout time.Duration
	// DiscoveryTTL is how long a warm instance keeps the discovery document
	// and the provider's keys before fetching them again.
	// Default DefaultDiscoveryTTL (1h).
	DiscoveryTTL time.Duration
	// KeyRefetchEvery is the least time between two JWKS fetches caused by
	// ID tokens whose key id is unknown. Without it every forged token with
	// a random kid would make us fetch the provider's JWKS.
	// Default DefaultKeyRefetchEvery (30s).
	KeyRefetchEvery time.Duration

	// HTTPClient makes every request to the provider. Default: a client
	// that does not follow redirects (a token request must not be re-sent,
	// credentials and all, wherever a 307 points) with a 10s overall timeout.
	HTTPClient *http.Client
	// Now is the clock for token expiry, discovery lifetime and the retry
	// budget. Default time.Now.
	Now func() time.Time
	// Sleep waits between retries; it returns ctx.Err() if ctx ends first.
	// Default: a timer. Tests inject one that records the delays.
	Sleep func(ctx context.Context, d time.Duration) error
}

// withDefaults returns c with every zero optional field set to its default.
func (c Config) withDefaults() Config {
	setDur := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	setDur(&c.RefreshWindow, DefaultRefreshWindow)
	setDur(&c.RotationGrace, DefaultRotationGrace)
	setDur(&c.RequestTimeout, DefaultRequestTimeout)
	setDur(&c.RevokeTimeout, DefaultRevokeTimeout)
	setDur(&c.DiscoveryTTL, DefaultDiscoveryTTL)
	setDur(&c.KeyRefetchEvery, DefaultKeyRefetchEvery)
	setDur(&c.Retry.BaseDelay, DefaultBaseDelay)
	setDur(&c.Retry.MaxDelay, DefaultMaxDelay)
	setDur(&c.Retry.Budget, DefaultRetryBudget)
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = DefaultMaxAttempts
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{
			Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleepTimer
	}
	c.RedirectURIs = append([]string(nil), c.RedirectURIs...)
	return c
}

// Validate reports the first problem with c, naming the environment
// variable it comes from. A Config without Issuer and ClientID is
// ErrNotConfigured.
func (c Config) Validate() error {
	if c.Issuer == "" && c.ClientID == "" {
		return ErrNotConfigured
	}
	if c.Issuer == "" {
		return fmt.Errorf("%w: OIDC_ISSUER is required when OIDC_CLIENT_ID is set", ErrNotConfigured)
	}
	if err := checkIssuer(c.Issuer); err != nil {
		return fmt.Errorf("OIDC_ISSUER: %w", err)
	}
	if c.ClientID == "" {
		return fmt.Errorf("%w: OIDC_CLIENT_ID is required when OIDC_ISSUER is set", ErrNotConfigured)
	}
	for _, u := range c.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return fmt.Errorf("OIDC_REDIRECT_URIS: %w", err)
		}
	}
	switch c.AuthMethod {
	case "", AuthMethodBasic, AuthMethodPost:
	case AuthMethodNone:
		if c.ClientSecret != "" {
			return errors.New("upstream: AuthMethod none with OIDC_CLIENT_SECRET set: the secret would never be sent")
		}
	default:
		return fmt.Errorf("upstream: unknown AuthMethod %q", c.AuthMethod)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"UPSTREAM_REFRESH_WINDOW", c.RefreshWindow},
		{"RotationGrace", c.RotationGrace},
		{"RequestTimeout", c.RequestTimeout},
		{"RevokeTimeout", c.RevokeTimeout},
		{"DiscoveryTTL", c.DiscoveryTTL},
		{"KeyRefetchEvery", c.KeyRefetchEvery},
		{"Retry.BaseDelay", c.Retry.BaseDelay},
		{"Retry.MaxDelay", c.Retry.MaxDelay},
		{"Retry.Budget", c.Retry.Budget},
	} {
		if f.d < 0 {
			return fmt.Errorf("upstream: %s must not be negative", f.name)
		}
	}
	if c.Retry.MaxAttempts < 0 {
		return errors.New("upstream: Retry.MaxAttempts must not be negative")
	}
	return nil
}

// ConfigFromEnv reads OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET,
// OIDC_REDIRECT_URIS (comma-separated) and UPSTREAM_REFRESH_WINDOW (a Go
// duration) through getenv (os.Getenv in production). With neither
// OIDC_ISSUER nor OIDC_CLIENT_ID set it returns ErrNotConfigured: the
// service then runs without an upstream provider. Any other error names the
// variable at fault and never repeats the secret.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Issuer:       strings.TrimSpace(getenv("OIDC_ISSUER")),
		ClientID:     strings.TrimSpace(getenv("OIDC_CLIENT_ID")),
		ClientSecret: getenv("OIDC_CLIENT_SECRET"),
	}
	for _, u := range strings.Split(getenv("OIDC_REDIRECT_URIS"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.RedirectURIs = append(c.RedirectURIs, u)
		}
	}
	if w := strings.TrimSpace(getenv("UPSTREAM_REFRESH_WINDOW")); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("UPSTREAM_REFRESH_WINDOW: want a positive Go duration such as 5m, got %q", w)
		}
		c.RefreshWindow = d
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func checkIssuer(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("upstream: issuer %q is not an absolute URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("upstream: issuer %q must not have a query, fragment or user info", s)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return fmt.Errorf("upstream: issuer %q must be https (http only for loopback hosts)", s)
	}
	return nil
}

func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("upstream: redirect URI %q is not an absolute URL", s)
	}
	if u.Fragment != "" {
		return fmt.Errorf("upstream: redirect URI %q must not have a fragment (RFC 6749 §3.1.2)", s)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sleepTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
