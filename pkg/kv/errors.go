package kv

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is returned for a nil reply: a missing key, a missing hash
// field, a script that returned false or nil. It is the only way a Redis nil
// reaches callers.
var ErrNotFound = errors.New("kv: not found")

// ErrUnavailable is wrapped by every error that means the store could not be
// reached or did not give a usable answer: connection refused, timeout,
// context cancelled, HTTP 5xx, an undecodable reply, a bad REST token. The
// HTTP layer turns it into 503 with Retry-After.
var ErrUnavailable = errors.New("kv: store unavailable")

// RedisError is an error reply from Redis itself ("WRONGTYPE ...",
// "NOSCRIPT ...", or an error raised by a script). The store was reached and
// refused the command; retrying the same command will not help.
type RedisError struct {
	Msg string // the error text as Redis sent it, e.g. "WRONGTYPE Operation against a key ..."
}

func (e *RedisError) Error() string { return "kv: redis: " + e.Msg }

// Prefix returns the error's code: the first word of Msg ("WRONGTYPE",
// "NOSCRIPT", "ERR").
func (e *RedisError) Prefix() string {
	code, _, _ := strings.Cut(e.Msg, " ")
	return code
}

// TransportError reports that a command may not have reached the store, or
// that its answer was lost or unreadable. It wraps ErrUnavailable and the
// underlying cause.
type TransportError struct {
	Op  string // what was being done: "do", "pipeline", "run", "dial"
	Err error  // the cause: a net error, context.DeadlineExceeded, a decode error
}

func (e *TransportError) Error() string { return fmt.Sprintf("kv: %s: %v", e.Op, e.Err) }

// Unwrap lets errors.Is match both ErrUnavailable and the cause.
func (e *TransportError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// HTTPError is a non-2xx answer from the Upstash REST API. It wraps
// ErrUnavailable: a 401 means the token is wrong (a configuration error the
// caller cannot fix by retrying, but the store is unusable all the same), a
// 5xx that the service is failing.
type HTTPError struct {
	Status int    // HTTP status code
	Msg    string // the "error" field of Upstash's JSON body, if any; never the token
}

func (e *HTTPError) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("kv: rest: http %d", e.Status)
	}
	return fmt.Sprintf("kv: rest: http %d: %s", e.Status, e.Msg)
}

// Unwrap lets errors.Is(err, ErrUnavailable) hold.
func (e *HTTPError) Unwrap() error { return ErrUnavailable }

// ErrInvalidArg is returned, without any round trip, for an argument the
// package cannot send: a type outside the documented set, or (REST only) a
// non-UTF-8 argument to a script command given to Do or Pipeline instead of
// Run. It is a programming error, not an outage: it does not wrap
// ErrUnavailable.
var ErrInvalidArg = errors.New("kv: invalid argument")

// ErrConfig is wrapped by every error Open returns for a bad environment: a
// half-set URL/token pair, an unparsable URL, or no store at all when
// VERCEL_ENV=production. The message names the variable, never its value.
var ErrConfig = errors.New("kv: bad configuration")
