package upstream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// transientError marks an attempt that failed in a way worth retrying.
type transientError struct {
	reason     string        // safe for logs: "HTTP 503", "connection refused", ...
	retryAfter time.Duration // the provider's Retry-After, 0 if none
}

func (e *transientError) Error() string { return e.reason }

// withRetries runs attempt until it succeeds, fails for good, or the policy
// says stop. attempt returns nil, a *transientError (retry), or any other
// error (returned as is). Each attempt gets RequestTimeout. Out of attempts
// or budget, the result is ErrUnavailable with a RetryAfter hint.
func (p *Provider) withRetries(ctx context.Context, what string, attempt func(ctx context.Context) error) error {
	pol := p.cfg.Retry
	start := p.cfg.Now()
	for n := 1; ; n++ {
		actx, cancel := context.WithTimeout(ctx, p.cfg.RequestTimeout)
		err := attempt(actx)
		cancel()
		var te *transientError
		if err == nil || !errors.As(err, &te) {
			return err
		}
		if ctx.Err() != nil {
			return unavailable(te.retryAfter, "%s: %s; %v", what, te.reason, ctx.Err())
		}
		delay := backoff(pol, n)
		if te.retryAfter > delay {
			delay = te.retryAfter
		}
		if n >= pol.MaxAttempts {
			return unavailable(max(te.retryAfter, backoffCap(pol, n+1)), "%s: %s after %d attempts", what, te.reason, n)
		}
		if p.cfg.Now().Add(delay).Sub(start) > pol.Budget {
			return unavailable(delay, "%s: %s; next retry in %v would exceed the %v budget", what, te.reason, delay.Round(time.Millisecond), pol.Budget)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay {
			return unavailable(delay, "%s: %s; next retry in %v would pass the deadline", what, te.reason, delay.Round(time.Millisecond))
		}
		if err := p.cfg.Sleep(ctx, delay); err != nil {
			return unavailable(delay, "%s: %s; %v", what, te.reason, err)
		}
	}
}

// backoffCap is the upper bound of the wait before retry n (n >= 1):
// min(MaxDelay, BaseDelay·2^(n-1)).
func backoffCap(pol RetryPolicy, n int) time.Duration {
	d := pol.BaseDelay
	for i := 1; i < n && d < pol.MaxDelay; i++ {
		d *= 2
	}
	return min(d, pol.MaxDelay)
}

// backoff is full jitter: uniform in [0, backoffCap(n)].
func backoff(pol RetryPolicy, n int) time.Duration {
	c := backoffCap(pol, n)
	if c <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(c) + 1))
}

// retryableStatus: 408 and 429 say "later", 5xx says "not now".
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// maxRetryAfter caps a provider's Retry-After; anything longer is treated
// as this long (and then exceeds any sane budget, so the call gives up and
// passes the hint on).
const maxRetryAfter = time.Hour

// parseRetryAfter reads a Retry-After header (RFC 9110 §10.2.3): either
// delay-seconds or an HTTP-date, relative to now. Missing, malformed or past
// values give 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}

// transportReason turns an error from http.Client.Do into a short text with
// no URL query and no request body (url.Error's text has the URL; ours has
// only the cause).
func transportReason(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return errors.New("timeout")
	case errors.Is(err, context.Canceled):
		return errors.New("canceled")
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return fmt.Errorf("network error: %s %s", oe.Op, causeText(oe.Err))
	}
	return errors.New("network error")
}

func causeText(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}
