package main

import (
	"bytes"
	"context"
	"errors"
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

// requester sends requests for one worker and reuses one body buffer, so
// the generator itself allocates little per request (it shares two cores
// with the server it measures).
type requester struct {
	client *http.Client
	buf    bytes.Buffer
}

// header is one request header.
type header struct{ key, value string }

// do sends one request and reads the whole response body (needed for the
// connection to return to the pool). The latency covers sending the request
// up to the last byte of the body.
func (r *requester) do(ctx context.Context, method, url, contentType, body string, hdrs ...header) call {
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
	_, err = r.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	c := call{status: resp.StatusCode, body: r.buf.Bytes(), elapsed: time.Since(start), err: err}
	return c
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
