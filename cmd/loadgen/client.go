package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// newHTTPClient returns a keep-alive client sized for conns concurrent
// workers: every worker keeps its connection between requests, so the run
// measures request handling, not TCP handshakes. Redirects are never
// followed and the dialer refuses non-loopback addresses.
func newHTTPClient(conns int, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: loopbackControl}
	tr := &http.Transport{
		Proxy:                 nil, // never route loopback traffic through an HTTP(S)_PROXY
		DialContext:           dialer.DialContext,
		MaxIdleConns:          conns * 2,
		MaxIdleConnsPerHost:   conns * 2,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ResponseHeaderTimeout: timeout,
		ForceAttemptHTTP2:     false,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// call is one request's outcome.
type call struct {
	status  int
	body    []byte // valid until the worker's next request
	elapsed time.Duration
	err     error
}

// requester sends the requests of one worker: plain-http URLs through a
// raw keep-alive connection per host (see rawhttp.go), anything else
// through the net/http client. The body of a call is valid until the
// worker's next request.
type requester struct {
	client *http.Client
	raw    map[string]*rawConn // by host:port
	buf    bytes.Buffer
}

// header is one request header.
type header struct{ key, value string }

// do sends one request and reads the whole response body. The latency
// covers writing the request up to the last byte of the body.
func (r *requester) do(ctx context.Context, method, url, contentType, body string, hdrs ...header) call {
	if err := ctx.Err(); err != nil {
		return call{err: err}
	}
	if rest, ok := strings.CutPrefix(url, "http://"); ok {
		hostport, path := rest, "/"
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			hostport, path = rest[:i], rest[i:]
		}
		return r.doRaw(ctx, hostport, method, path, contentType, body, hdrs)
	}
	return r.doStd(ctx, method, url, contentType, body, hdrs)
}

func (r *requester) doRaw(ctx context.Context, hostport, method, path, contentType, body string, hdrs []header) call {
	rc := r.raw[hostport]
	if rc == nil {
		if r.raw == nil {
			r.raw = make(map[string]*rawConn, 1)
		}
		addr := hostport
		if _, _, err := net.SplitHostPort(hostport); err != nil {
			addr = net.JoinHostPort(strings.Trim(hostport, "[]"), "80")
		}
		rc = &rawConn{addr: addr, host: hostport}
		r.raw[hostport] = rc
	}
	timeout := r.client.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	start := time.Now()
	deadline := start.Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	status, b, err := rc.roundTrip(ctx, deadline, method, path, contentType, body, hdrs)
	elapsed := time.Since(start)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return call{status: status, body: b, elapsed: elapsed, err: err}
}

// close drops the worker's raw connections.
func (r *requester) close() {
	for _, rc := range r.raw {
		rc.drop()
	}
}

func (r *requester) doStd(ctx context.Context, method, url, contentType, body string, hdrs []header) call {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return call{err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	for _, h := range hdrs {
		req.Header.Set(h.key, h.value)
	}
	start := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		return call{elapsed: time.Since(start), err: err}
	}
	r.buf.Reset()
	_, err = r.buf.ReadFrom(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	return call{status: resp.StatusCode, body: r.buf.Bytes(), elapsed: time.Since(start), err: err}
}

// canceled reports whether err comes from the run ending, not the target.
func canceled(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

const (
	ctJSON = "application/json"
	ctForm = "application/x-www-form-urlencoded"
)

func bearer(token string) header { return header{"Authorization", "Bearer " + token} }
