package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/upstream"
)

// UpstreamTokens are the provider's tokens held for a session.
type UpstreamTokens = upstream.Tokens

// Upstream is what the Manager needs of the OIDC provider;
// *upstream.Provider implements it. Every method is safe for concurrent use.
type Upstream interface {
	// Exchange redeems an authorization code with its PKCE verifier and
	// returns the provider's tokens and the verified identity.
	Exchange(ctx context.Context, code, codeVerifier, redirectURI string) (upstream.Tokens, upstream.Identity, error)
	// VerifyIDToken checks an ID token against the provider's keys.
	VerifyIDToken(ctx context.Context, rawIDToken, nonce string) (upstream.Identity, error)
	// RefreshTokens runs the refresh grant for t and returns the merged result.
	RefreshTokens(ctx context.Context, t upstream.Tokens) (upstream.Tokens, error)
	// Revoke revokes a token at the provider (RFC 7009), best effort.
	Revoke(ctx context.Context, token, hint string) error
	// Introspect asks the provider about a token (RFC 7662); errors wrap
	// upstream.ErrNotSupported when it publishes no introspection endpoint.
	Introspect(ctx context.Context, token string) (active bool, claims map[string]any, err error)
}

// Lease timing of the upstream refresh: the holder has upstreamLease to
// finish; the others poll every upstreamPoll for at most upstreamWait.
const (
	upstreamLease = 15 * time.Second
	upstreamPoll  = 50 * time.Millisecond
	upstreamWait  = 5 * time.Second
)

// CreateFromCode creates a session for the user an authorization code
// belongs to: the code is redeemed at the provider with its PKCE verifier
// (RFC 7636), the ID token it returns is verified, and the user is its sub.
//
// Errors: upstream.ErrNotConfigured without a provider, upstream.ErrRedirectURI,
// upstream.ErrInvalidGrant (bad or used code), upstream.ErrInvalidToken,
// upstream.ErrUnavailable, and Create's.
func (m *Manager) CreateFromCode(ctx context.Context, code, codeVerifier, redirectURI string, dev *Device, c Client) (*Issued, error) {
	if m.cfg.Upstream == nil {
		return nil, upstream.ErrNotConfigured
	}
	toks, id, err := m.cfg.Upstream.Exchange(ctx, code, codeVerifier, redirectURI)
	if err != nil {
		return nil, m.upstreamFailure(ctx, err, c)
	}
	return m.Create(ctx, CreateRequest{UserID: id.Subject, Upstream: &toks, Device: dev, Client: c, Actor: "user"})
}

// CreateFromIDToken creates a session for the subject of an ID token
// verified against the provider's published keys. The ID token is kept as
// the session's upstream token.
func (m *Manager) CreateFromIDToken(ctx context.Context, idToken string, dev *Device, c Client) (*Issued, error) {
	if m.cfg.Upstream == nil {
		return nil, upstream.ErrNotConfigured
	}
	id, err := m.cfg.Upstream.VerifyIDToken(ctx, idToken, "")
	if err != nil {
		return nil, m.upstreamFailure(ctx, err, c)
	}
	return m.Create(ctx, CreateRequest{UserID: id.Subject, Upstream: &upstream.Tokens{IDToken: idToken}, Device: dev, Client: c, Actor: "user"})
}

// upstreamFailure counts a refused code or ID token against the client's
// lockout; a provider outage is not the client's failure.
func (m *Manager) upstreamFailure(ctx context.Context, err error, c Client) error {
	if errors.Is(err, upstream.ErrInvalidGrant) || errors.Is(err, upstream.ErrInvalidToken) {
		if ferr := m.RecordFailure(ctx, "create", ipKey(c), c); ferr != nil {
			var rl *RateLimitError
			if errors.As(ferr, &rl) {
				return ferr
			}
		}
	}
	return err
}

func (m *Manager) sealUpstream(sid string, t *upstream.Tokens) (string, error) {
	if m.cfg.Sealer == nil {
		return "", errors.New("session: upstream tokens given but no Sealer configured")
	}
	return upstream.SealTokens(m.cfg.Sealer, sid, *t)
}

// refreshUpstream refreshes a session's provider tokens before its own
// rotation, exactly once however many instances get here at once: a lease
// in the store picks the one that calls the provider; the others wait for
// the session's upstream expiry to move, then rotate with what it stored.
// It fills a for the next refresh.lua run: the new sealed tokens (holder),
// or UpSkip to go on with tokens still valid when the provider is down or
// the wait times out.
//
// The caller must call release after that next run, never before: the
// lease covers the write of the result, so that no instance that read the
// old tokens can take it in between and call the provider a second time
// (lease_take.lua also refuses the lease once the tokens have moved).
func (m *Manager) refreshUpstream(ctx context.Context, sid, sealed string, upx int64, a *refreshArgs) (release func(), err error) {
	release = func() {}
	now := m.cfg.Now()
	stillValid := upx > now.UnixMilli()
	lease := m.cfg.KeyPrefix + "lease:up:" + sid
	holder := randomHex()
	v, err := m.kv.Run(ctx, scriptLeaseTake, []string{lease, m.cfg.KeyPrefix + "s:" + sid},
		holder, upstreamLease.Milliseconds(), upx)
	switch {
	case err != nil:
		return release, err
	case v == "moved":
		return release, nil // fresh tokens are stored: the next run rotates with them
	case v != "ok":
		return release, m.awaitUpstream(ctx, sid, upx, stillValid, a)
	}
	release = func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_, _ = m.kv.Run(rctx, scriptLease, []string{lease}, holder)
	}

	old, err := upstream.OpenTokens(m.cfg.Sealer, sid, sealed)
	if err != nil || old.RefreshToken == "" {
		// Sealed with another key (SESSION_ENCRYPTION_KEY rotated), or the
		// provider gave no refresh token: nothing to refresh with. Go on
		// without it rather than lock the user out of our own session.
		if err != nil {
			m.cfg.Logger.Warn("upstream tokens unreadable", slog.String("sid", sid))
		}
		a.UpSkip = true
		return release, nil
	}
	fresh, err := m.cfg.Upstream.RefreshTokens(ctx, old)
	switch {
	case err == nil:
		s, err := upstream.SealTokens(m.cfg.Sealer, sid, fresh)
		if err != nil {
			return release, err
		}
		a.Up, a.UpX, a.UpSeen = s, fresh.Expiry.UnixMilli(), upx
		if fresh.Expiry.IsZero() {
			a.UpX = 0
		}
		a.UpRot = fresh.RefreshToken != old.RefreshToken
		return release, nil
	case errors.Is(err, upstream.ErrInvalidGrant):
		// The provider ended the user's grant: our session ends with it.
		_ = m.end(ctx, endArgs{base: m.base(now, Client{}, "system", rules{}), Mode: "ids", IDs: []string{sid},
			Reason: "upstream_invalid_grant", State: string(StateTerminated), Note: ActionUpstreamRefreshFailed}, nil)
		return release, ErrInvalidGrant
	case stillValid:
		// Provider down, but the old token is good a while longer.
		m.cfg.Logger.Warn("upstream refresh failed; keeping current tokens", slog.String("sid", sid), slog.String("err", err.Error()))
		a.UpSkip = true
		return release, nil
	default:
		return release, err
	}
}

// awaitUpstream waits for the lease holder to store fresh upstream tokens.
func (m *Manager) awaitUpstream(ctx context.Context, sid string, upx int64, stillValid bool, a *refreshArgs) error {
	deadline := time.Now().Add(upstreamWait)
	key := m.cfg.KeyPrefix + "s:" + sid
	for time.Now().Before(deadline) {
		t := time.NewTimer(upstreamPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("session: waiting for upstream refresh: %w", &kv.TransportError{Op: "wait", Err: ctx.Err()})
		case <-t.C:
		}
		v, err := m.kv.Do(ctx, "HGET", key, "upx")
		if errors.Is(err, kv.ErrNotFound) {
			return nil // the session ended meanwhile; the script will say so
		}
		if err != nil {
			return err
		}
		if s, _ := v.(string); s != "" {
			if n, _ := strconv.ParseInt(s, 10, 64); n != upx {
				return nil // stored by the holder: the next run rotates with it
			}
		}
	}
	if stillValid {
		a.UpSkip = true
		return nil
	}
	return fmt.Errorf("session: upstream refresh still running elsewhere: %w", upstream.ErrUnavailable)
}

// revokeUpstream revokes an ended session's provider refresh token (or its
// access token when there is none), best effort: failures are logged.
func (m *Manager) revokeUpstream(ctx context.Context, sid, sealed string) {
	if m.cfg.Sealer == nil {
		return
	}
	t, err := upstream.OpenTokens(m.cfg.Sealer, sid, sealed)
	if err != nil {
		return
	}
	tok, hint := t.RefreshToken, "refresh_token"
	if tok == "" {
		tok, hint = t.AccessToken, "access_token"
	}
	if tok == "" {
		return
	}
	if err := m.cfg.Upstream.Revoke(ctx, tok, hint); err != nil && !errors.Is(err, upstream.ErrNotSupported) {
		m.cfg.Logger.Warn("upstream revocation failed", slog.String("sid", sid), slog.String("err", err.Error()))
	}
}

func randomHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// introspectUpstream learns what it can of provider tokens handed over by a
// trusted back end without an expiry (opaque access tokens): the provider's
// introspection (RFC 7662) says whether the token is active and when it
// expires, so it can be refreshed in time. Returns whether it asked.
func (m *Manager) introspectUpstream(ctx context.Context, t *upstream.Tokens) (bool, error) {
	if m.cfg.Upstream == nil || t.AccessToken == "" || !t.Expiry.IsZero() {
		return false, nil
	}
	active, claims, err := m.cfg.Upstream.Introspect(ctx, t.AccessToken)
	switch {
	case errors.Is(err, upstream.ErrNotSupported):
		return false, nil
	case err != nil:
		return false, err
	case !active:
		return false, &InvalidRequestError{Field: "upstream.access_token", Reason: "is not active at the provider"}
	}
	if n, ok := claims["exp"].(json.Number); ok {
		if exp, err := n.Int64(); err == nil && exp > 0 {
			t.Expiry = time.Unix(exp, 0)
		}
	}
	if sc, ok := claims["scope"].(string); ok && t.Scope == "" {
		t.Scope = sc
	}
	return true, nil
}
