package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/session"
	"github.com/sessionkit/sessiond/pkg/upstream"
)

// Error codes of SPEC ("Errors"): RFC 6749 §5.2 where they fit, our own
// otherwise. server_error (RFC 6749 §4.1.2.1) is for the unexpected only.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidGrant         = "invalid_grant"
	CodeInvalidClient        = "invalid_client"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeUnauthorized         = "unauthorized"
	CodeForbidden            = "forbidden"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodePayloadTooLarge      = "payload_too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeRateLimited          = "rate_limited"
	CodeUnavailable          = "unavailable"
	CodeServerError          = "server_error"
)

// Error is an answer the HTTP layer gives instead of a result. Its
// Description is shown to the caller, so it never holds a token, a secret or
// text copied from one.
type Error struct {
	Status      int
	Code        string
	Description string
	// RetryAfter is sent as Retry-After (whole seconds, rounded up, at
	// least 1) on 429 and 503.
	RetryAfter time.Duration
	// Challenge is the error= parameter of WWW-Authenticate on a 401
	// (RFC 6750 §3.1), e.g. "invalid_token"; empty when no credential was
	// presented at all.
	Challenge string
}

func (e *Error) Error() string {
	return fmt.Sprintf("httpapi: %d %s: %s", e.Status, e.Code, e.Description)
}

// errorBody is SPEC's error JSON: both fields, always.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: fmt.Sprintf(format, args...)}
}

func unauthorized(challenge, format string, args ...any) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Challenge: challenge,
		Description: fmt.Sprintf(format, args...)}
}

func forbidden(format string, args ...any) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Description: fmt.Sprintf(format, args...)}
}

// unavailableRetry is the Retry-After of a 503 when the store is down: long
// enough not to hammer it, short enough for a blip.
const unavailableRetry = 2 * time.Second

// invalidGrantText is the one description of every refused grant, so the
// answer says nothing about which check failed (SPEC: "one and the same body
// whichever it was").
const invalidGrantText = "the grant is invalid, expired or revoked"

// toError maps an error from any layer to the answer it deserves. The
// second result is false for an error nobody planned for: it becomes a 500
// with a generic text and is logged.
func toError(err error) (*Error, bool) {
	var (
		he  *Error
		rle *session.RateLimitError
		ire *session.InvalidRequestError
	)
	switch {
	case errors.As(err, &he):
		return he, true
	case errors.As(err, &rle):
		return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited,
			Description: "too many requests; retry later", RetryAfter: rle.RetryAfter}, true
	case errors.As(err, &ire):
		return badRequest("%s: %s", ire.Field, ire.Reason), true
	case errors.Is(err, session.ErrDevice):
		return badRequest("%s", trimPrefix(err.Error(), "session: invalid ")), true
	case errors.Is(err, session.ErrInvalidGrant), errors.Is(err, upstream.ErrInvalidGrant):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidGrant, Description: invalidGrantText}, true
	case errors.Is(err, session.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Description: "session not found"}, true
	case errors.Is(err, session.ErrUnauthorized):
		return unauthorized("invalid_token", "the access token is invalid, expired or revoked"), true
	case errors.Is(err, session.ErrForbidden):
		return forbidden("not allowed for this caller"), true
	case errors.Is(err, upstream.ErrInvalidToken):
		return unauthorized("invalid_token", "the id_token was refused"), true
	case errors.Is(err, upstream.ErrNotConfigured):
		return unauthorized("", "no upstream provider is configured; use the admin key"), true
	case errors.Is(err, upstream.ErrRedirectURI):
		return badRequest("redirect_uri is not allowed"), true
	case errors.Is(err, upstream.ErrUnavailable), errors.Is(err, upstream.ErrRejected):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Description: "the upstream provider is unavailable", RetryAfter: upstream.RetryAfter(err)}, true
	case errors.Is(err, kv.ErrUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Description: "the session store is unavailable", RetryAfter: unavailableRetry}, true
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Description: "the request ran out of time", RetryAfter: unavailableRetry}, true
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeServerError,
		Description: "internal error"}, false
}

func trimPrefix(s, p string) string {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// retryAfterSeconds rounds d up to whole seconds, at least 1 (RFC 9110
// §10.2.3 counts whole seconds; 0 would invite an immediate retry).
func retryAfterSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

// writeError writes e as SPEC's error JSON with the headers its status
// calls for.
func writeError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	if e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds(e.RetryAfter)))
	}
	if e.Status == http.StatusUnauthorized {
		v := `Bearer realm="sessiond"`
		if e.Challenge != "" {
			v += `, error="` + e.Challenge + `"`
		}
		h.Set("WWW-Authenticate", v)
	}
	writeJSON(w, e.Status, errorBody{Error: e.Code, Description: e.Description})
}

// fail answers err. Unexpected errors are logged (their text comes from our
// own packages, which keep tokens and secrets out of it) and answered with
// a generic 500.
func fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e, known := toError(err)
	if !known {
		log.Error("httpapi: unexpected error", "method", r.Method, "path", r.URL.Path, "err", err.Error())
	} else if e.Status == http.StatusServiceUnavailable {
		log.Warn("httpapi: unavailable", "method", r.Method, "path", r.URL.Path, "err", err.Error())
	}
	writeError(w, e)
}
