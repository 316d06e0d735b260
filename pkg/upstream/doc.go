// Package upstream is the session service's client of the upstream OAuth 2.0
// / OpenID Connect provider (WorkOS, Auth0, Okta, Keycloak, Hydra, Google...):
// it redeems authorization codes, verifies ID tokens, refreshes, introspects
// and revokes the provider's tokens, and seals them for storage. It keeps no
// per-session state; pkg/session stores the sealed tokens in the KV store and
// decides when to call it (the refresh lease lives there).
//
// # Model
//
//   - Provider: one per warm instance, built from Config (ConfigFromEnv reads
//     OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS,
//     UPSTREAM_REFRESH_WINDOW). New makes no network call. The discovery
//     document ($OIDC_ISSUER/.well-known/openid-configuration) is fetched on
//     first use, shared by concurrent callers, kept for Config.DiscoveryTTL
//     (1h), and not kept when the fetch fails, so the next call tries again.
//     The JWKS is cached inside it and shares its lifetime; an unknown key id
//     refetches it at most every Config.KeyRefetchEvery.
//   - Exchange: authorization code + PKCE verifier + allowed redirect URI →
//     Tokens and the verified Identity (the user is its Subject).
//   - VerifyIDToken: a bare ID token → Identity (go-oidc: signature by a
//     published key with a published algorithm, iss, aud, exp, nonce).
//   - Refresh / RefreshTokens: the refresh grant. NeedsRefresh says when
//     (expiry within UPSTREAM_REFRESH_WINDOW, 5m by default).
//   - Introspect (RFC 7662) and Revoke (RFC 7009), when the provider
//     publishes the endpoints; ErrNotSupported otherwise.
//   - Tokens, SealTokens, OpenTokens: the tokens and their stored form,
//     AES-256-GCM (pkg/seal) with the session id as associated data, as
//     base64 text for a Redis hash field.
//
// # Failures
//
// Every error wraps one sentinel, and the mapping to the SPEC's answers is:
// ErrInvalidGrant → 400 invalid_grant (and, on refresh, the session ends,
// audit upstream.refresh_failed); ErrUnavailable and ErrRejected → 503
// unavailable with Retry-After (RetryAfter(err)), session untouched;
// ErrInvalidToken → 401; ErrRedirectURI → 400 invalid_request;
// ErrNotConfigured → 401 for code and id_token logins. Nothing here ever
// becomes a 500.
//
// Calls to the token and introspection endpoints are retried on network
// errors, timeouts, 408, 429 (honouring Retry-After) and 5xx, with
// exponential backoff and full jitter, bounded by RetryPolicy.MaxAttempts and
// RetryPolicy.Budget (real time too: each public call runs under a context
// deadline of Budget). invalid_grant is never retried. Revoke makes one
// attempt under Config.RevokeTimeout.
//
// # Secrets
//
// No error text, log value or String form holds a token, code, verifier or
// the client secret: x/oauth2's errors (which print the provider's response
// body) are reduced to the OAuth error code and HTTP status, and the
// provider's error_description is dropped, since providers echo the
// presented code in it.
//
// # Concurrency with other instances
//
// Refresh is not idempotent when the provider rotates refresh tokens: two
// instances refreshing the same session at once may get one of them an
// invalid_grant (or, at providers with reuse detection, the whole token
// family revoked). pkg/session must therefore hold its KV lease around
// RefreshTokens and write the result back atomically; this package makes
// exactly one refresh grant per call (plus retries of failed attempts, and
// at most one fallback to PrevRefreshToken after invalid_grant).
package upstream
