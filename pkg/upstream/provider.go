package upstream

import (
	"context"
	"sync"
	"time"
)

// Provider talks to one OAuth 2.0 / OpenID Connect provider. It is safe for
// concurrent use and meant to live as long as the (warm) instance: it caches
// the discovery document and the provider's keys for Config.DiscoveryTTL.
// It holds no per-session state; tokens go in and out by value.
//
// Every method on a nil *Provider returns ErrNotConfigured, so a service
// running without OIDC_ISSUER can hold a nil *Provider and still call it.
type Provider struct {
	cfg Config

	mu       sync.Mutex
	cur      *state
	inflight *discoveryCall
}

// New returns a Provider for cfg (see Config for the defaults). It makes no
// network call: discovery happens lazily on first use, so a cold start does
// not pay for it unless a request needs the provider. It returns
// ErrNotConfigured for a Config without Issuer and ClientID, and an error
// naming the variable for any other invalid setting.
func New(cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Provider{cfg: cfg.withDefaults()}, nil
}

// NeedsRefresh is NeedsRefresh(t, Config.Now(), Config.RefreshWindow).
func (p *Provider) NeedsRefresh(t Tokens) bool {
	if p == nil {
		return false
	}
	return NeedsRefresh(t, p.cfg.Now(), p.cfg.RefreshWindow)
}

// RefreshWindow returns the configured UPSTREAM_REFRESH_WINDOW (default 5m).
func (p *Provider) RefreshWindow() time.Duration {
	if p == nil {
		return DefaultRefreshWindow
	}
	return p.cfg.RefreshWindow
}

// opContext bounds one public operation by the retry budget in real time,
// whatever the injected clock says.
func (p *Provider) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, p.cfg.Retry.Budget)
}
