package upstream

import (
	"context"
	"fmt"
	"net/url"
)

// Revoke asks the provider to revoke token (RFC 7009), authenticating as
// the client; hint is "access_token", "refresh_token" or "" (any other value
// is not sent). Revoking a refresh token usually revokes its access tokens
// too (RFC 7009 §2.1).
//
// It is best effort: one attempt, the whole call bounded by
// Config.RevokeTimeout, so that ending a session locally never waits long
// on the provider. The caller should end the session first and revoke
// upstream after (or in the background), logging the error, not failing on
// it. A provider without a revocation_endpoint gives ErrNotSupported; 503
// gives ErrUnavailable with RetryAfter; another non-200 answer ErrRejected
// (RFC 7009 §2.2: an unknown or already invalid token is still 200).
func (p *Provider) Revoke(ctx context.Context, token, hint string) error {
	if p == nil {
		return ErrNotConfigured
	}
	if token == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.RevokeTimeout)
	defer cancel()
	s, err := p.current(ctx)
	if err != nil {
		return err
	}
	if s.md.RevocationEndpoint == "" {
		return fmt.Errorf("%w: no revocation_endpoint", ErrNotSupported)
	}
	form := url.Values{"token": {token}}
	if hint == "access_token" || hint == "refresh_token" {
		form.Set("token_type_hint", hint)
	}
	status, hdr, _, err := p.postForm(ctx, s.md.RevocationEndpoint, p.authMethod(s.md.RevokeAuthMethods), form)
	if err == nil {
		err = statusError(status, hdr, p)
	}
	if te, ok := err.(*transientError); ok {
		return unavailable(te.retryAfter, "revocation: %s", te.reason)
	}
	return err
}
