package upstream

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Every error returned by this package wraps at most one of
// them; check with errors.Is. No error text ever contains a token, a code, a
// code verifier or the client secret, and the provider's error_description is
// never repeated (some providers echo the code back in it).
var (
	// ErrInvalidGrant: the provider refused the grant itself. For Exchange,
	// the code was bad, used, expired, or did not match the code verifier or
	// redirect URI; for Refresh, the refresh token is unknown, expired or
	// revoked. Never retried. The session core answers invalid_grant (400)
	// and, on refresh, ends the session with upstream.refresh_failed.
	ErrInvalidGrant = errors.New("upstream: invalid grant")

	// ErrUnavailable: the provider could not be reached or did not give a
	// usable answer in time: connection refused, timeouts, 429 and 5xx after
	// the retries, a malformed discovery document, a JWKS that cannot be
	// fetched. The session core answers unavailable (503) with Retry-After
	// (see RetryAfter) and leaves the session as it was.
	ErrUnavailable = errors.New("upstream: provider unavailable")

	// ErrInvalidToken: an ID token was refused: malformed, signed with an
	// algorithm the provider does not publish, by an unknown key, with a bad
	// signature, for another issuer or audience, expired, not yet valid,
	// without a subject, or with the wrong nonce. The session core answers
	// 401.
	ErrInvalidToken = errors.New("upstream: invalid id token")

	// ErrRedirectURI: the redirect URI given to Exchange is not one of
	// Config.RedirectURIs (OIDC_REDIRECT_URIS). Checked before any network
	// call. The session core answers invalid_request (400).
	ErrRedirectURI = errors.New("upstream: redirect_uri not allowed")

	// ErrNotConfigured: no provider is configured (OIDC_ISSUER or
	// OIDC_CLIENT_ID unset), or a method was called on a nil *Provider. The
	// session core answers 401 to code/id_token logins.
	ErrNotConfigured = errors.New("upstream: provider not configured")

	// ErrNotSupported: the provider's discovery document does not publish the
	// endpoint needed (introspection_endpoint, revocation_endpoint). Only
	// Introspect and Revoke return it.
	ErrNotSupported = errors.New("upstream: not supported by provider")

	// ErrRejected: the provider answered with an OAuth error other than
	// invalid_grant that says our own client is at fault: invalid_client,
	// unauthorized_client, unsupported_grant_type, invalid_scope, or a 4xx
	// without an error code. It means a misconfiguration (client id, secret,
	// Config.AuthMethod), not a bad user: it is not retried, the session is
	// not ended, and the session core answers 503 like ErrUnavailable while
	// logging it as a configuration problem. The error's text names the
	// OAuth error code and HTTP status.
	ErrRejected = errors.New("upstream: provider rejected the client")
)

// unavailableError carries the provider's Retry-After hint.
type unavailableError struct {
	what       string
	retryAfter time.Duration
}

func (e *unavailableError) Error() string {
	return fmt.Sprintf("%v: %s", ErrUnavailable, e.what)
}

func (e *unavailableError) Unwrap() error { return ErrUnavailable }

// rejectedRetryAfter is the hint for ErrRejected: a misconfigured client
// does not mend itself within seconds.
const rejectedRetryAfter = time.Minute

// RetryAfter returns how long the caller should wait before trying again
// after an ErrUnavailable: the provider's own Retry-After when it sent one,
// else the next backoff delay the retry policy would have used; it is at
// least one second (a Retry-After header counts whole seconds). For
// ErrRejected, which the service also answers with 503, it is one minute.
// For any other error it is 0.
func RetryAfter(err error) time.Duration {
	if errors.Is(err, ErrRejected) {
		return rejectedRetryAfter
	}
	var ue *unavailableError
	if errors.As(err, &ue) {
		if ue.retryAfter < time.Second {
			return time.Second
		}
		return ue.retryAfter
	}
	if errors.Is(err, ErrUnavailable) {
		return time.Second
	}
	return 0
}

func unavailable(retryAfter time.Duration, format string, args ...any) error {
	return &unavailableError{what: fmt.Sprintf(format, args...), retryAfter: retryAfter}
}
