package kv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// REST transport defaults.
const (
	DefaultRESTTimeout     = 5 * time.Second // whole call, retries included, when ctx has no earlier deadline
	DefaultRESTMaxAttempts = 3               // attempts for a call that is safe to resend
	DefaultRESTBackoff     = 25 * time.Millisecond
	DefaultRESTMaxBackoff  = 400 * time.Millisecond
	DefaultRESTMaxReply    = 32 << 20 // bytes
)

// RESTOptions configures NewREST. Zero values take the defaults shown.
type RESTOptions struct {
	// URL is the database's REST endpoint, e.g. https://xyz.upstash.io
	// (KV_REST_API_URL). Required. https, or http to a loopback host only:
	// the token must not cross a network in clear text.
	URL string

	// Token is the bearer token (KV_REST_API_TOKEN). Required. It is sent
	// in the Authorization header only, and never appears in an error, a
	// log line or the client's String form.
	Token string

	// Timeout bounds one call, retries and backoff included, when the
	// context has no earlier deadline. Default DefaultRESTTimeout (5s).
	Timeout time.Duration

	// MaxAttempts is the number of attempts for a call that is safe to
	// resend; 1 disables retries. Default DefaultRESTMaxAttempts (3).
	MaxAttempts int

	// Backoff and MaxBackoff shape the wait before attempt n+1: a uniform
	// random duration in [0, min(MaxBackoff, Backoff*2^(n-1))) ("full
	// jitter"). Defaults 25ms and 400ms.
	Backoff, MaxBackoff time.Duration

	// MaxReply bounds the size of a reply body. Default 32 MiB.
	MaxReply int64

	// HTTPClient sends the requests. Default: a client over one
	// package-wide keep-alive transport (SharedHTTPTransport), so that a
	// warm serverless function reuses its TLS connections across
	// invocations even if it builds a new REST client for each.
	HTTPClient *http.Client
}

// REST is a Client for the Upstash REST API (what Vercel KV speaks), over
// plain net/http: POST of a JSON command array to the base URL, /pipeline
// for batches, replies requested with Upstash-Encoding: base64 so that
// binary values survive. It is safe for concurrent use.
//
// Retries: a call is resent (with exponential backoff and full jitter) only
// when resending cannot apply a write twice: every command after a dial
// failure (nothing was sent), and read-only commands (see readonly.go)
// after any transport failure, 429 or 5xx. A write whose request may have
// reached the server is never resent: its failure is reported, and the
// caller decides.
//
// Read-your-writes: Upstash answers every call with an upstash-sync-token
// header; the client remembers the latest one and sends it with the
// following calls, so that on a replicated (global) database a read served
// by a replica waits for the writes this client made before. The token is
// kept per client (all requests through the same client share it) and is
// monotonic: tokens are opaque, but when both the stored and the new one are
// decimal integers a smaller one never replaces a larger one (a slow reply
// to an older call cannot roll it back); otherwise the latest reply wins.
//
// Errors: an error reply inside a 200 pipeline answer, or a 400 whose body
// is Upstash's {"error": "..."} (Redis refusing the command), is a
// *RedisError; 401, 403, 429, 5xx and any other status are *HTTPError; a
// timeout, a dropped connection or a body that is not a valid reply are
// *TransportError. HTTPError and TransportError wrap ErrUnavailable.
type REST struct {
	base    string
	token   string
	hc      *http.Client
	opts    RESTOptions
	sync    syncToken
	closed  atomic.Bool
	authHdr string
}

var (
	_ Client         = (*REST)(nil)
	_ observedRunner = (*REST)(nil)
)

// NewREST validates opts and returns a REST client. It does not contact the
// server.
func NewREST(opts RESTOptions) (*REST, error) {
	base, err := checkRESTURL(opts.URL)
	if err != nil {
		return nil, err
	}
	tok := strings.TrimSpace(opts.Token)
	if tok == "" {
		return nil, fmt.Errorf("%w: REST token is empty", ErrConfig)
	}
	if strings.ContainsAny(tok, "\r\n") {
		return nil, fmt.Errorf("%w: REST token contains a line break", ErrConfig)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultRESTTimeout
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultRESTMaxAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultRESTBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultRESTMaxBackoff
	}
	if opts.MaxReply <= 0 {
		opts.MaxReply = DefaultRESTMaxReply
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: SharedHTTPTransport()}
	}
	opts.Token = "" // keep one copy only, in r.token
	return &REST{base: base, token: tok, hc: hc, opts: opts, authHdr: "Bearer " + tok}, nil
}

// checkRESTURL returns the base URL without a trailing slash.
func checkRESTURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("%w: REST URL must be an absolute http(s) URL", ErrConfig)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: REST URL must not carry credentials, a query or a fragment", ErrConfig)
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return "", fmt.Errorf("%w: REST URL must be https (plain http only to a loopback host)", ErrConfig)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// String names the endpoint, never the token.
func (r *REST) String() string { return "kv.REST(" + r.base + ")" }

// GoString keeps %#v from printing the token.
func (r *REST) GoString() string { return r.String() }

// Do runs one command. See Client.
func (r *REST) Do(ctx context.Context, args ...any) (any, error) {
	return r.doOp(ctx, "do", args)
}

// Pipeline sends the commands as one /pipeline request. See Client. A 400
// refusing the whole batch (a request Upstash cannot parse) is returned as
// a *RedisError for the batch.
func (r *REST) Pipeline(ctx context.Context, cmds ...[]any) ([]Result, error) {
	return r.pipeOp(ctx, "pipeline", cmds)
}

// Run runs a script with EVALSHA, falling back on NOSCRIPT to one /pipeline
// request of SCRIPT LOAD and EVALSHA. See Client.
func (r *REST) Run(ctx context.Context, s *Script, keys []string, args ...any) (any, error) {
	return r.runObserved(ctx, s, keys, args, noTrip)
}

func (r *REST) runObserved(ctx context.Context, s *Script, keys []string, args []any, trip func([]string)) (any, error) {
	s2, k2, a2, _, err := restBinaryRun(s, keys, args)
	if err != nil {
		return nil, err
	}
	return runScript(ctx, r, s2, k2, a2, trip)
}

// Close marks the client closed; later calls fail with a TransportError.
// The shared HTTP transport and its idle connections stay, for other
// clients of the same process.
func (r *REST) Close() error {
	r.closed.Store(true)
	return nil
}

var errClosed = errors.New("client is closed")

func (r *REST) doOp(ctx context.Context, op string, args []any) (any, error) {
	sargs, err := toArgs(args)
	if err != nil {
		return nil, err
	}
	wire, err := restWire(sargs)
	if err != nil {
		return nil, err
	}
	body, err := r.call(ctx, op, "", appendCommand(nil, wire), isReadOnly(sargs))
	if err != nil {
		return nil, err
	}
	res, err := decodeEntry(body)
	if err != nil {
		return nil, &TransportError{Op: op, Err: fmt.Errorf("decode reply: %w", err)}
	}
	return res.Val, res.Err
}

func (r *REST) pipeOp(ctx context.Context, op string, cmds [][]any) ([]Result, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	ro := true
	body := []byte{'['}
	for i, c := range cmds {
		sargs, err := toArgs(c)
		if err != nil {
			return nil, fmt.Errorf("command %d: %w", i, err)
		}
		wire, err := restWire(sargs)
		if err != nil {
			return nil, fmt.Errorf("command %d: %w", i, err)
		}
		ro = ro && isReadOnly(sargs)
		if i > 0 {
			body = append(body, ',')
		}
		body = appendCommand(body, wire)
	}
	body = append(body, ']')
	reply, err := r.call(ctx, op, "/pipeline", body, ro)
	if err != nil {
		return nil, err
	}
	res, err := decodePipeline(reply)
	if err == nil && len(res) != len(cmds) {
		err = fmt.Errorf("%w: %d results for %d commands", errMalformed, len(res), len(cmds))
	}
	if err != nil {
		return nil, &TransportError{Op: op, Err: fmt.Errorf("decode reply: %w", err)}
	}
	return res, nil
}
