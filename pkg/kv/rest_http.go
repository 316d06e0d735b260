package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// SyncTokenHeader is the header Upstash uses for read-your-writes.
const SyncTokenHeader = "Upstash-Sync-Token"

// SharedHTTPTransport returns the process-wide keep-alive transport the
// REST clients use by default: one TLS connection pool per process, kept
// warm between invocations of a serverless function.
func SharedHTTPTransport() *http.Transport { return sharedTransport() }

var sharedTransport = sync.OnceValue(func() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   32, // the default 2 would re-dial under any concurrency
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   3 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
})

// syncToken holds the latest upstash-sync-token; see REST.
type syncToken struct {
	mu sync.Mutex
	v  string
}

func (s *syncToken) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v
}

func (s *syncToken) observe(t string) {
	if t == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, err1 := strconv.ParseUint(s.v, 10, 64); err1 == nil {
		if n, err2 := strconv.ParseUint(t, 10, 64); err2 == nil && n < old {
			return
		}
	}
	s.v = t
}

// call POSTs body to base+path and returns the body of a 200 answer. It
// applies the per-call timeout and the retry rule (see REST).
func (r *REST) call(ctx context.Context, op, path string, body []byte, readOnly bool) ([]byte, error) {
	if r.closed.Load() {
		return nil, &TransportError{Op: op, Err: errClosed}
	}
	if err := ctx.Err(); err != nil {
		return nil, &TransportError{Op: op, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		status, reply, err := r.once(ctx, path, body)
		if err == nil && status == http.StatusOK {
			return reply, nil
		}
		var fail error
		retry := false
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, &TransportError{Op: op, Err: fmt.Errorf("%w (%v)", ctx.Err(), err)}
		case err != nil:
			fail = &TransportError{Op: op, Err: err}
			retry = readOnly || notSent(err)
		default:
			fail = r.statusError(status, reply)
			retry = readOnly && (status >= 500 || status == http.StatusTooManyRequests)
		}
		if !retry || attempt >= r.opts.MaxAttempts {
			return nil, fail
		}
		if !sleepCtx(ctx, r.backoff(attempt)) {
			return nil, &TransportError{Op: op, Err: fmt.Errorf("%w (after %v)", ctx.Err(), fail)}
		}
	}
}

// once makes one HTTP exchange. Errors are stripped of the request URL
// (url.Error repeats it) so messages stay short; the token is in a header
// and never part of an error.
func (r *REST) once(ctx context.Context, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", r.authHdr)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Upstash-Encoding", "base64")
	if t := r.sync.get(); t != "" {
		req.Header.Set(SyncTokenHeader, t)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("post %s: %w", pathOrRoot(path), ue.Err)
		}
		return 0, nil, err
	}
	defer resp.Body.Close()
	r.sync.observe(resp.Header.Get(SyncTokenHeader))
	reply, err := io.ReadAll(io.LimitReader(resp.Body, r.opts.MaxReply+1))
	if err != nil {
		return 0, nil, fmt.Errorf("read reply: %w", err)
	}
	if int64(len(reply)) > r.opts.MaxReply {
		return 0, nil, fmt.Errorf("reply larger than %d bytes", r.opts.MaxReply)
	}
	return resp.StatusCode, reply, nil
}

func pathOrRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// statusError maps a non-200 answer. A 400 carrying Upstash's error JSON is
// Redis (or Upstash on its behalf) refusing the command: a RedisError.
func (r *REST) statusError(status int, body []byte) error {
	msg, ok := errorField(body)
	if status == http.StatusBadRequest && ok {
		return &RedisError{Msg: r.scrub(msg)}
	}
	return &HTTPError{Status: status, Msg: r.scrub(msg)}
}

// scrub bounds a server-supplied message and makes sure it cannot carry the
// token into an error text or a log line.
func (r *REST) scrub(msg string) string {
	msg = strings.ToValidUTF8(msg, "?")
	if r.token != "" {
		msg = strings.ReplaceAll(msg, r.token, "[redacted]")
	}
	if len(msg) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "..."
	}
	return msg
}

// notSent reports whether err proves the request never left: the
// connection could not be made. Only then may a write be resent.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func (r *REST) backoff(attempt int) time.Duration {
	ceil := r.opts.MaxBackoff
	if shift := attempt - 1; shift < 20 {
		if d := r.opts.Backoff << shift; d < ceil {
			ceil = d
		}
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
