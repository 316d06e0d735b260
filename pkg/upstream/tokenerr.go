package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// classifyTokenError maps an error from x/oauth2's token request to ours.
// It never uses the error's own text: oauth2.RetrieveError prints the
// response body and error_description, which may echo the code or token.
//
//	invalid_grant (any status)                → ErrInvalidGrant, final
//	408, 429, 5xx, temporarily_unavailable,
//	server_error                              → transient (retried), Retry-After kept
//	other 4xx / OAuth error                   → ErrRejected, final
//	transport error, attempt timeout          → transient
//	anything else (a 200 without access_token,
//	an unparsable body)                       → ErrUnavailable, final
func classifyTokenError(err error, now time.Time) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		var retryAfter time.Duration
		if re.Response != nil {
			status = re.Response.StatusCode
			retryAfter = parseRetryAfter(re.Response.Header.Get("Retry-After"), now)
		}
		code := oauthCode(re.ErrorCode)
		switch {
		case re.ErrorCode == "invalid_grant":
			return fmt.Errorf("%w (HTTP %d)", ErrInvalidGrant, status)
		case retryableStatus(status) || re.ErrorCode == "temporarily_unavailable" || re.ErrorCode == "server_error":
			return &transientError{reason: fmt.Sprintf("HTTP %d %s", status, code), retryAfter: retryAfter}
		default:
			return fmt.Errorf("%w: %s (HTTP %d)", ErrRejected, code, status)
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) {
		return &transientError{reason: transportReason(err).Error()}
	}
	if errors.Is(err, context.Canceled) {
		return unavailable(0, "token endpoint: canceled")
	}
	return unavailable(0, "token endpoint: unusable response")
}

// oauthCode returns an OAuth error code fit for logs: RFC 6749 §5.2 allows
// only printable ASCII without '"' and '\'; anything else, or anything
// long, is not a real code and is not repeated.
func oauthCode(s string) string {
	if s == "" {
		return "(no error code)"
	}
	if len(s) > 40 {
		return "(malformed error code)"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return "(malformed error code)"
		}
	}
	return s
}
