package session

import (
	"fmt"
	"time"

	"github.com/sessionkit/sessiond/pkg/config"
	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/seal"
	"github.com/sessionkit/sessiond/pkg/token"
	"github.com/sessionkit/sessiond/pkg/upstream"
)

// verifiedCacheSize bounds the cache of verified access-token signatures:
// a repeated token skips the Ed25519 check (about 100 µs) but never the KV
// check, so revocation stays visible on the very next call.
const verifiedCacheSize = 16384

// NewFromConfig builds a Manager from the environment's configuration:
// the signer and verifier of access tokens, the refresh-token keys and the
// sealer derived from SESSION_ENCRYPTION_KEY, and the upstream provider
// when OIDC_ISSUER is set. tweaks adjust the session Config before the
// Manager is built (tests set the clock or the key prefix there); when a
// tweak sets Now, token verification uses that clock too.
func NewFromConfig(store kv.Client, c *config.Config, tweaks ...func(*Config)) (*Manager, error) {
	signer, err := token.NewSigner(c.JWTPrivateKey, c.Issuer, c.Audience, c.AccessTokenTTL)
	if err != nil {
		return nil, fmt.Errorf("session: SESSION_JWT_PRIVATE_KEY: %w", err)
	}
	sealer, err := seal.New(c.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("session: SESSION_ENCRYPTION_KEY: %w", err)
	}
	scale := c.RateLimitScale
	grace := c.RefreshGrace
	if grace == 0 {
		// SESSION_REFRESH_GRACE=0: no grace at all; a re-presented token is
		// reuse at once. (A zero Config field means the default instead.)
		grace = time.Nanosecond
	}
	sc := Config{
		Signer: signer, RefreshKeys: token.NewRefreshKeys(c.EncryptionKey), Sealer: sealer,
		IdleTimeout: c.IdleTimeout, AbsoluteTimeout: c.AbsoluteTimeout, RefreshGrace: grace,
		MaxPerUser: c.MaxPerUser, AuditRetention: c.AuditRetention,
		DeviceMatchThreshold: c.DeviceMatchThreshold, RiskBlock: c.RiskBlock,
		UpstreamRefreshWindow: c.UpstreamRefreshWindow, RateLimitScale: &scale,
	}
	if c.OIDCEnabled() {
		p, err := upstream.New(upstream.Config{
			Issuer: c.OIDCIssuer, ClientID: c.OIDCClientID, ClientSecret: c.OIDCClientSecret,
			RedirectURIs: c.OIDCRedirectURIs, RefreshWindow: c.UpstreamRefreshWindow,
		})
		if err != nil {
			return nil, fmt.Errorf("session: OIDC_ISSUER: %w", err)
		}
		sc.Upstream = p
	}
	for _, t := range tweaks {
		t(&sc)
	}
	if sc.Verifier == nil {
		now := sc.Now
		if now == nil {
			now = time.Now
		}
		sc.Verifier, err = token.NewVerifier(c.Issuer, c.Audience, c.PublicKeys(),
			token.WithClock(now), token.WithCache(verifiedCacheSize))
		if err != nil {
			return nil, fmt.Errorf("session: SESSION_JWT_PREVIOUS_KEYS: %w", err)
		}
	}
	return New(store, sc)
}

var _ Upstream = (*upstream.Provider)(nil)
