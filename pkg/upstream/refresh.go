package upstream

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"
)

var errNoRefreshToken = errors.New("upstream: no refresh token")

// Refresh runs the refresh grant (RFC 6749 §6) with refreshToken and
// returns the new tokens. Transient failures are retried with backoff and
// full jitter within Config.Retry; invalid_grant is never retried and comes
// back as ErrInvalidGrant (the session should end). Exhausted retries, or a
// provider that cannot be reached, are ErrUnavailable (the session stays as
// it was; RetryAfter says when to try again).
//
// If the answer carries no refresh token, the old one stays valid and is
// returned (RFC 6749 §6: the server MAY issue a new one). If it carries a
// new one, the provider rotated: the old one is returned as
// PrevRefreshToken, kept until Now + Config.RotationGrace. IDToken, Scope
// and TokenType are as the answer gave them, possibly empty; RefreshTokens
// carries the old values over. A refreshed ID token is not verified: it
// came straight from the token endpoint over TLS (OpenID Connect Core
// §3.1.3.7 (6)) and is stored, not used to identify anyone.
func (p *Provider) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	if p == nil {
		return Tokens{}, ErrNotConfigured
	}
	if refreshToken == "" {
		return Tokens{}, fmt.Errorf("%w: %v", ErrInvalidGrant, errNoRefreshToken)
	}
	ctx, cancel := p.opContext(ctx)
	defer cancel()
	s, err := p.current(ctx)
	if err != nil {
		return Tokens{}, err
	}
	oc := p.oauthConfig(s)
	var tok *oauth2.Token
	err = p.withRetries(ctx, "refresh", func(actx context.Context) error {
		// A token with no access token is invalid, so the source goes
		// straight to the refresh grant.
		t, err := oc.TokenSource(p.clientContext(actx), &oauth2.Token{RefreshToken: refreshToken}).Token()
		if err != nil {
			return classifyTokenError(err, p.cfg.Now())
		}
		tok = t
		return nil
	})
	if err != nil {
		return Tokens{}, err
	}
	now := p.cfg.Now()
	t := tokensFrom(tok, now)
	if t.RefreshToken == "" {
		t.RefreshToken = refreshToken
	}
	if t.RefreshToken != refreshToken {
		t.PrevRefreshToken = refreshToken
		t.PrevRefreshUntil = now.Add(p.cfg.RotationGrace)
	}
	return t, nil
}

// RefreshTokens refreshes cur and returns the complete new set: Refresh
// with cur.RefreshToken, then the fields the answer left out carried over
// from cur (ID token, scope, token type, a still-valid previous refresh
// token). If the provider answers invalid_grant and cur still holds a
// previous refresh token within its grace period, that one is tried once
// before giving up: the provider may have answered a rotation it did not
// commit. This is what the session core calls under its refresh lease.
func (p *Provider) RefreshTokens(ctx context.Context, cur Tokens) (Tokens, error) {
	if p == nil {
		return Tokens{}, ErrNotConfigured
	}
	next, err := p.Refresh(ctx, cur.RefreshToken)
	if errors.Is(err, ErrInvalidGrant) && cur.PrevRefreshToken != "" &&
		cur.PrevRefreshToken != cur.RefreshToken && p.cfg.Now().Before(cur.PrevRefreshUntil) {
		next, err = p.Refresh(ctx, cur.PrevRefreshToken)
	}
	if err != nil {
		return Tokens{}, err
	}
	return cur.merge(next, p.cfg.Now()), nil
}
