package session

import (
	"errors"
	"log/slog"
	"time"

	"github.com/sessionkit/sessiond/pkg/seal"
	"github.com/sessionkit/sessiond/pkg/token"
)

// Config is everything a Manager needs besides its store. Build it once per
// process (NewFromConfig does it from the environment's config.Config).
// Zero durations and numbers take the defaults stated on each field, which
// are SPEC's.
type Config struct {
	Signer      *token.Signer     // signs access tokens; required
	Verifier    *token.Verifier   // checks them (current + previous keys); required
	RefreshKeys token.RefreshKeys // from SESSION_ENCRYPTION_KEY; required
	Sealer      *seal.Sealer      // encrypts upstream tokens at rest; required when Upstream is set or upstream tokens are given

	// Upstream is the OIDC provider; nil when none is configured (then only
	// the trusted back end can create sessions).
	Upstream Upstream
	// UpstreamRevoke: revoke the provider's refresh token when a session ends
	// (best effort, bounded by UpstreamRevokeTimeout, default 2s).
	UpstreamRevokeTimeout time.Duration

	IdleTimeout     time.Duration // SESSION_IDLE_TIMEOUT, default 24h
	AbsoluteTimeout time.Duration // SESSION_ABSOLUTE_TIMEOUT, default 168h
	RefreshGrace    time.Duration // SESSION_REFRESH_GRACE, default 10s
	MaxPerUser      int           // SESSION_MAX_PER_USER, default 10
	AuditRetention  time.Duration // SESSION_AUDIT_RETENTION, default 720h

	// DeviceMatchThreshold is SESSION_DEVICE_MATCH_THRESHOLD (default 0.8):
	// below this similarity a refresh writes device.mismatch.
	DeviceMatchThreshold float64
	// RiskBlock is SESSION_RISK_BLOCK (default 0.7): at or above this score
	// a refresh is refused and the session suspended.
	RiskBlock float64
	// Risk weighs the hijack signals; the zero value means DefaultRiskWeights.
	Risk *RiskWeights

	// UpstreamRefreshWindow is UPSTREAM_REFRESH_WINDOW (default 5m).
	UpstreamRefreshWindow time.Duration

	// RateLimitScale multiplies every limit of Limits (SESSION_RATE_LIMIT_SCALE).
	// Nil means 1; a pointer to 0 turns rate limiting off (load tests only).
	RateLimitScale *float64
	// Limits are the rate-limit and lockout rules; nil means DefaultLimits().
	Limits *Limits

	// TombstoneTTL is how long the record of an ended or expired session
	// stays in the store (default 25h): long enough for the daily cron to
	// write the expiry event of a session nobody touched again, and for
	// listings and revocations to recognise it. The store drops it after.
	TombstoneTTL time.Duration

	// KeyPrefix namespaces every key (default "sd:"). Tests use a unique one
	// per test so they can share one Redis.
	KeyPrefix string

	// Now is the clock (default time.Now). Times sent to the store come from
	// it, so expiry is tested without sleeping.
	Now func() time.Time
	// Rand returns a float in [0, 1) for lockout jitter (default math/rand/v2).
	Rand func() float64
	// Logger gets operational lines, never a token (default slog.Default()).
	Logger *slog.Logger
}

// The SPEC defaults.
const (
	DefaultIdleTimeout          = 24 * time.Hour
	DefaultAbsoluteTimeout      = 168 * time.Hour
	DefaultRefreshGrace         = 10 * time.Second
	DefaultMaxPerUser           = 10
	DefaultAuditRetention       = 720 * time.Hour
	DefaultDeviceMatchThreshold = 0.8
	DefaultRiskBlock            = 0.7
	DefaultUpstreamWindow       = 5 * time.Minute
	DefaultKeyPrefix            = "sd:"

	// MaxMetadataKeys, MaxMetadataKeyLen and MaxMetadataValueLen bound a
	// session's metadata (SPEC: 32 keys of 64 bytes, values of 512 bytes).
	MaxMetadataKeys     = 32
	MaxMetadataKeyLen   = 64
	MaxMetadataValueLen = 512

	// historyLen is how many refresh records a session keeps.
	historyLen = 50
	// ipHistoryLen is how many distinct recent IPs a session remembers.
	ipHistoryLen = 10
)

func (c *Config) withDefaults() (Config, error) {
	out := *c
	if out.Signer == nil || out.Verifier == nil {
		return out, errors.New("session: Config needs a Signer and a Verifier")
	}
	if out.RefreshKeys == (token.RefreshKeys{}) {
		return out, errors.New("session: Config needs RefreshKeys")
	}
	if out.Upstream != nil && out.Sealer == nil {
		return out, errors.New("session: Config needs a Sealer with an Upstream")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&out.IdleTimeout, DefaultIdleTimeout)
	def(&out.AbsoluteTimeout, DefaultAbsoluteTimeout)
	def(&out.RefreshGrace, DefaultRefreshGrace)
	def(&out.AuditRetention, DefaultAuditRetention)
	def(&out.UpstreamRefreshWindow, DefaultUpstreamWindow)
	def(&out.UpstreamRevokeTimeout, 2*time.Second)
	def(&out.TombstoneTTL, 25*time.Hour)
	if out.MaxPerUser <= 0 {
		out.MaxPerUser = DefaultMaxPerUser
	}
	if out.DeviceMatchThreshold == 0 {
		out.DeviceMatchThreshold = DefaultDeviceMatchThreshold
	}
	if out.RiskBlock == 0 {
		out.RiskBlock = DefaultRiskBlock
	}
	if out.Risk == nil {
		w := DefaultRiskWeights
		out.Risk = &w
	}
	if out.Limits == nil {
		l := DefaultLimits()
		out.Limits = &l
	}
	if out.RateLimitScale != nil {
		l := out.Limits.Scaled(*out.RateLimitScale)
		out.Limits = &l
	}
	if out.KeyPrefix == "" {
		out.KeyPrefix = DefaultKeyPrefix
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.Rand == nil {
		out.Rand = randFloat
	}
	if out.Logger == nil {
		out.Logger = slog.Default()
	}
	return out, nil
}
