package kvtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessiond/pkg/kv"
)

// Front is an Upstash-protocol HTTP server over a real Redis (or an
// in-process miniredis), for testing the REST transport over real HTTP. It
// reproduces the request and reply shapes Upstash documents:
//
//   - POST / with a JSON array ["CMD", "arg", 1, ...]: 200 {"result": v}, or
//     400 {"error": "ERR ..."} when Redis refuses the command;
//   - POST /pipeline with an array of such arrays: 200 with one
//     {"result": v} or {"error": "..."} per command, in order;
//   - Authorization: Bearer <token> (or ?_token=): otherwise 401
//     {"error": "Unauthorized"};
//   - Upstash-Encoding: base64: every string of a result base64-encoded,
//     except the status "OK"; integers, nulls and errors as they are;
//   - an Upstash-Sync-Token header on every answer (a counter), and the
//     token each request carried recorded (SyncTokens).
//
// A body that is not valid UTF-8 JSON is refused with 400, as a JSON parser
// must: that is why the client hex-encodes binary arguments (see kv's
// rest_encode.go), and the binary contract tests would fail without it.
//
// Faults (Inject) let tests make the next requests slow, fail with a
// status, answer garbage, or drop the connection, before or after the
// commands ran.
type Front struct {
	// Token is the bearer token the front accepts (random per front).
	Token string

	srv  *httptest.Server
	rdb  *redis.Client
	mini *miniredis.Miniredis

	mu       sync.Mutex
	faults   []Fault
	seenSync []string

	requests atomic.Int64
	executed atomic.Int64
	conns    atomic.Int64
	syncSeq  atomic.Uint64
}

// FaultKind says what a Fault does.
type FaultKind int

// Fault kinds.
const (
	FaultDelay   FaultKind = iota + 1 // sleep Delay, then answer normally
	FaultStatus                       // answer Status with {"error": "fault injected"}
	FaultGarbage                      // answer 200 with a body that is not JSON
	FaultDrop                         // close the connection without answering
)

// Fault is one injected failure, applied to one request.
type Fault struct {
	Kind   FaultKind
	Delay  time.Duration // FaultDelay
	Status int           // FaultStatus
	// AfterExec applies the fault after the commands ran against Redis (a
	// write happened, its answer is lost); otherwise before (nothing ran).
	AfterExec bool
}

// NewUpstashFront starts a front for the test's lifetime. With redisURL ""
// it forwards to a fresh in-process miniredis (Mini returns it); otherwise
// to that Redis.
func NewUpstashFront(tb testing.TB, redisURL string) *Front {
	tb.Helper()
	f := &Front{Token: randomHex(16)}
	var opts *redis.Options
	if redisURL == "" {
		f.mini = miniredis.NewMiniRedis()
		if err := f.mini.StartAddr("127.0.0.1:0"); err != nil {
			tb.Fatalf("kvtest: start miniredis: %v", err)
		}
		f.mini.ClockTTL(true)
		opts = &redis.Options{Addr: f.mini.Addr()}
	} else {
		var err error
		if opts, err = redis.ParseURL(redisURL); err != nil {
			tb.Fatalf("kvtest: REDIS_URL: %v", err)
		}
	}
	opts.Protocol = 2
	opts.MaxRetries = -1
	opts.DisableIdentity = true
	opts.ContextTimeoutEnabled = true
	f.rdb = redis.NewClient(opts)
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.srv.Start()
	tb.Cleanup(func() {
		f.srv.CloseClientConnections()
		f.srv.Close()
		_ = f.rdb.Close()
		if f.mini != nil {
			f.mini.Close()
		}
	})
	return f
}

// URL is the front's base URL (http://127.0.0.1:port).
func (f *Front) URL() string { return f.srv.URL }

// Mini returns the in-process server behind the front, or nil when it
// forwards to a real Redis.
func (f *Front) Mini() *miniredis.Miniredis { return f.mini }

// Client returns a REST client for this front with opts (URL and Token are
// filled in), closed at the end of the test.
func (f *Front) Client(tb testing.TB, opts kv.RESTOptions) *kv.REST {
	tb.Helper()
	opts.URL, opts.Token = f.URL(), f.Token
	c, err := kv.NewREST(opts)
	if err != nil {
		tb.Fatalf("kvtest: NewREST: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Inject queues faults; each applies to one later request, in order.
func (f *Front) Inject(faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, faults...)
}

// Requests returns the number of HTTP requests received.
func (f *Front) Requests() int64 { return f.requests.Load() }

// Conns returns the number of TCP connections clients opened to the front.
func (f *Front) Conns() int64 { return f.conns.Load() }

// Executed returns the number of commands run against Redis.
func (f *Front) Executed() int64 { return f.executed.Load() }

// SyncTokens returns the Upstash-Sync-Token each request carried ("" for
// none), in arrival order.
func (f *Front) SyncTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seenSync...)
}

func (f *Front) nextFault() *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.faults) == 0 {
		return nil
	}
	ft := f.faults[0]
	f.faults = f.faults[1:]
	return &ft
}

func (f *Front) serve(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	f.mu.Lock()
	f.seenSync = append(f.seenSync, r.Header.Get(kv.SyncTokenHeader))
	f.mu.Unlock()
	fault := f.nextFault()

	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "Method Not Allowed"})
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		tok = r.URL.Query().Get("_token")
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(f.Token)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Unauthorized"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return
	}
	if fault != nil && !fault.AfterExec && !f.apply(w, r, fault) {
		return
	}
	b64 := strings.EqualFold(r.Header.Get("Upstash-Encoding"), "base64")
	var status int
	var reply any
	switch r.URL.Path {
	case "/", "":
		status, reply = f.single(r.Context(), body, b64)
	case "/pipeline":
		status, reply = f.pipeline(r.Context(), body, b64)
	default:
		status, reply = http.StatusNotFound, map[string]string{"error": "ERR unknown endpoint"}
	}
	if fault != nil && fault.AfterExec && !f.apply(w, r, fault) {
		return
	}
	w.Header().Set(kv.SyncTokenHeader, strconv.FormatUint(f.syncSeq.Add(1), 10))
	writeJSON(w, status, reply)
}

// apply performs a fault; it reports whether the request should go on.
func (f *Front) apply(w http.ResponseWriter, r *http.Request, ft *Fault) bool {
	switch ft.Kind {
	case FaultDelay:
		select {
		case <-time.After(ft.Delay):
		case <-r.Context().Done():
			return false
		}
		return true
	case FaultStatus:
		writeJSON(w, ft.Status, map[string]string{"error": "fault injected"})
	case FaultGarbage:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"result": "T0s=", oops`))
	case FaultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
	}
	return false
}

func (f *Front) single(ctx context.Context, body []byte, b64 bool) (int, any) {
	cmd, err := parseCommand(body)
	if err != nil {
		return http.StatusBadRequest, map[string]string{"error": err.Error()}
	}
	v, err := f.exec(ctx, cmd)
	if err != nil {
		return http.StatusBadRequest, map[string]string{"error": err.Error()}
	}
	return http.StatusOK, map[string]any{"result": encodeValue(v, b64)}
}

func (f *Front) pipeline(ctx context.Context, body []byte, b64 bool) (int, any) {
	var raws []json.RawMessage
	if !jsonValid(body) || json.Unmarshal(body, &raws) != nil || len(raws) == 0 {
		return http.StatusBadRequest, map[string]string{"error": "ERR failed to parse pipeline request"}
	}
	cmds := make([][]any, len(raws))
	for i, raw := range raws {
		cmd, err := parseCommand(raw)
		if err != nil {
			return http.StatusBadRequest, map[string]string{"error": err.Error()}
		}
		cmds[i] = cmd
	}
	out := make([]any, len(cmds))
	for i, cmd := range cmds {
		v, err := f.exec(ctx, cmd)
		if err != nil {
			out[i] = map[string]string{"error": err.Error()}
			continue
		}
		out[i] = map[string]any{"result": encodeValue(v, b64)}
	}
	return http.StatusOK, out
}

var errParse = errors.New("ERR failed to parse command")

// parseCommand accepts a non-empty JSON array of strings and numbers.
func parseCommand(raw []byte) ([]any, error) {
	if !jsonValid(raw) {
		return nil, errParse
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var arr []any
	if dec.Decode(&arr) != nil || len(arr) == 0 {
		return nil, errParse
	}
	cmd := make([]any, len(arr))
	for i, a := range arr {
		switch v := a.(type) {
		case string:
			cmd[i] = v
		case json.Number:
			cmd[i] = v.String()
		default:
			return nil, errParse
		}
	}
	return cmd, nil
}

// jsonValid is stricter than encoding/json, which would replace bytes that
// are not UTF-8: a request must be valid UTF-8 JSON.
func jsonValid(b []byte) bool { return json.Valid(b) && utf8.Valid(b) }

// exec runs one command; a Redis error reply comes back as the error.
func (f *Front) exec(ctx context.Context, cmd []any) (any, error) {
	f.executed.Add(1)
	v, err := f.rdb.Do(ctx, cmd...).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return v, err
}

// encodeValue renders a RESP2 reply the way Upstash does in JSON.
func encodeValue(v any, b64 bool) any {
	switch t := v.(type) {
	case string:
		if !b64 || t == "OK" {
			return strings.ToValidUTF8(t, "\uFFFD")
		}
		return base64.StdEncoding.EncodeToString([]byte(t))
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = encodeValue(e, b64)
		}
		return out
	case redis.Error:
		return map[string]string{"error": t.Error()}
	}
	return v // int64, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
