package upstream

import (
	"context"
	"fmt"

	"golang.org/x/oauth2"
)

// Exchange redeems an authorization code obtained with PKCE (RFC 7636) at
// the provider's token endpoint, verifies the ID token in the answer (no
// nonce check: the caller's create request carries none) and returns the
// tokens and the user.
//
// redirectURI must be exactly one of Config.RedirectURIs, else
// ErrRedirectURI before any network call. codeVerifier is required and must
// have RFC 7636 §4.1's form (43 to 128 of [A-Za-z0-9-._~]); a code without a
// verifier is refused as ErrInvalidGrant, because a code alone can be
// injected by whoever saw it (RFC 9700 §2.1.1). A bad, used or expired code
// or a verifier that does not match is ErrInvalidGrant; an answer without an
// id_token is ErrInvalidToken. Transient failures are retried (see
// RetryPolicy); a retry after a lost answer ends in invalid_grant, since
// codes are single-use, which is the right outcome: the user logs in again.
func (p *Provider) Exchange(ctx context.Context, code, codeVerifier, redirectURI string) (Tokens, Identity, error) {
	if p == nil {
		return Tokens{}, Identity{}, ErrNotConfigured
	}
	if !contains(p.cfg.RedirectURIs, redirectURI) {
		return Tokens{}, Identity{}, ErrRedirectURI
	}
	if code == "" || len(code) > 4096 {
		return Tokens{}, Identity{}, fmt.Errorf("%w: missing or oversized code", ErrInvalidGrant)
	}
	if !validVerifier(codeVerifier) {
		return Tokens{}, Identity{}, fmt.Errorf("%w: code_verifier missing or malformed (RFC 7636 §4.1)", ErrInvalidGrant)
	}
	ctx, cancel := p.opContext(ctx)
	defer cancel()
	s, err := p.current(ctx)
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	oc := p.oauthConfig(s)
	oc.RedirectURL = redirectURI
	var tok *oauth2.Token
	err = p.withRetries(ctx, "token exchange", func(actx context.Context) error {
		t, err := oc.Exchange(p.clientContext(actx), code, oauth2.VerifierOption(codeVerifier))
		if err != nil {
			return classifyTokenError(err, p.cfg.Now())
		}
		tok = t
		return nil
	})
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	t := tokensFrom(tok, p.cfg.Now())
	if t.IDToken == "" {
		return Tokens{}, Identity{}, fmt.Errorf("%w: token response has no id_token (is the openid scope requested?)", ErrInvalidToken)
	}
	id, err := p.verify(ctx, s, t.IDToken, "")
	if err != nil {
		return Tokens{}, Identity{}, err
	}
	return t, id, nil
}

// validVerifier checks RFC 7636 §4.1: code-verifier = 43*128unreserved.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// oauthConfig is x/oauth2's view of the client for state s. The secret is
// left out for AuthMethodNone.
func (p *Provider) oauthConfig(s *state) *oauth2.Config {
	secret := p.cfg.ClientSecret
	if p.authMethod(s.md.TokenAuthMethods) == AuthMethodNone {
		secret = ""
	}
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: secret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   s.md.AuthorizationEndpoint,
			TokenURL:  s.md.TokenEndpoint,
			AuthStyle: s.tokenStyle,
		},
	}
}

// clientContext hands our HTTP client to x/oauth2.
func (p *Provider) clientContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, p.cfg.HTTPClient)
}
