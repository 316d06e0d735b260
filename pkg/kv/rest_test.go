package kv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
)

// REST transport fault tests: the front (over $REDIS_URL, or miniredis)
// fails on purpose; the client must surface the typed errors and resend
// only what cannot be applied twice.

func newFront(t *testing.T) *kvtest.Front { return kvtest.NewUpstashFront(t, kvtest.RedisURL()) }

func wantHTTPError(t *testing.T, err error, status int) *kv.HTTPError {
	t.Helper()
	var he *kv.HTTPError
	if !errors.As(err, &he) || he.Status != status || !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("err = %v, want an HTTPError %d wrapping ErrUnavailable", err, status)
	}
	return he
}

func wantTransportError(t *testing.T, err error) {
	t.Helper()
	var te *kv.TransportError
	var re *kv.RedisError
	if !errors.As(err, &te) || !errors.Is(err, kv.ErrUnavailable) || errors.As(err, &re) {
		t.Fatalf("err = %v, want a TransportError wrapping ErrUnavailable", err)
	}
}

func TestRESTTimeout(t *testing.T) {
	f := newFront(t)
	c := f.Client(t, kv.RESTOptions{})
	f.Inject(kvtest.Fault{Kind: kvtest.FaultDelay, Delay: 3 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, "GET", kvtest.Prefix(t)+"k")
	wantTransportError(t, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}

	// No deadline on the context: RESTOptions.Timeout bounds the call.
	short := f.Client(t, kv.RESTOptions{Timeout: 100 * time.Millisecond})
	f.Inject(kvtest.Fault{Kind: kvtest.FaultDelay, Delay: 3 * time.Second})
	_, err = short.Do(context.Background(), "SET", kvtest.Prefix(t)+"k", "v")
	wantTransportError(t, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

func TestREST500WriteNotResent(t *testing.T) {
	f := newFront(t)
	c := f.Client(t, kv.RESTOptions{})
	k := kvtest.Prefix(t) + "n"
	f.Inject(kvtest.Fault{Kind: kvtest.FaultStatus, Status: 500, AfterExec: true})
	_, err := c.Do(context.Background(), "INCR", k)
	wantHTTPError(t, err, 500)
	if f.Requests() != 1 || f.Executed() != 1 {
		t.Fatalf("requests=%d executed=%d, want the write sent once", f.Requests(), f.Executed())
	}
	v, err := c.Do(context.Background(), "GET", k)
	if err != nil || v != "1" {
		t.Fatalf("GET = %#v, %v; want the INCR applied exactly once", v, err)
	}

	f.Inject(kvtest.Fault{Kind: kvtest.FaultStatus, Status: 503})
	_, err = c.Pipeline(context.Background(), []any{"INCR", k}, []any{"GET", k})
	wantHTTPError(t, err, 503)
	if f.Requests() != 3 {
		t.Fatalf("requests=%d: a pipeline with a write was resent after a 503", f.Requests())
	}
}

func TestRESTReadRetried(t *testing.T) {
	f := newFront(t)
	c := f.Client(t, kv.RESTOptions{})
	k := kvtest.Prefix(t) + "k"
	if _, err := c.Do(context.Background(), "SET", k, "v"); err != nil {
		t.Fatal(err)
	}
	before := f.Requests()
	f.Inject(
		kvtest.Fault{Kind: kvtest.FaultStatus, Status: 502},
		kvtest.Fault{Kind: kvtest.FaultDrop, AfterExec: true},
	)
	res, err := c.Pipeline(context.Background(), []any{"GET", k}, []any{"TTL", k})
	if err != nil || len(res) != 2 || res[0].Val != "v" {
		t.Fatalf("read-only pipeline after a 502 and a drop = %v, %v; want it retried to success", res, err)
	}
	if got := f.Requests() - before; got != 3 {
		t.Fatalf("%d requests, want 3 (two failures, one success)", got)
	}

	once := f.Client(t, kv.RESTOptions{MaxAttempts: 1})
	f.Inject(kvtest.Fault{Kind: kvtest.FaultStatus, Status: 500})
	_, err = once.Do(context.Background(), "GET", k)
	wantHTTPError(t, err, 500)
}

func TestRESTDropWriteNotResent(t *testing.T) {
	f := newFront(t)
	c := f.Client(t, kv.RESTOptions{})
	k := kvtest.Prefix(t) + "n"
	f.Inject(kvtest.Fault{Kind: kvtest.FaultDrop, AfterExec: true})
	_, err := c.Do(context.Background(), "INCR", k)
	wantTransportError(t, err)
	if f.Requests() != 1 {
		t.Fatalf("requests=%d, want the write sent once", f.Requests())
	}
	if v, err := c.Do(context.Background(), "GET", k); err != nil || v != "1" {
		t.Fatalf("GET = %#v, %v; want 1", v, err)
	}
}

func TestRESTDialFailureResendsWrite(t *testing.T) {
	f := newFront(t)
	closed := kv.ClosedAddr(t)
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 { // the first dial really fails: connection refused
			addr = closed
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	c := f.Client(t, kv.RESTOptions{HTTPClient: &http.Client{Transport: tr}})
	k := kvtest.Prefix(t) + "n"
	v, err := c.Do(context.Background(), "INCR", k)
	if err != nil || v != int64(1) {
		t.Fatalf("INCR after a refused dial = %#v, %v; want 1 (resent, nothing was sent the first time)", v, err)
	}
	if dials.Load() != 2 || f.Requests() != 1 || f.Executed() != 1 {
		t.Fatalf("dials=%d requests=%d executed=%d, want 2/1/1", dials.Load(), f.Requests(), f.Executed())
	}
}

func TestREST401(t *testing.T) {
	f := newFront(t)
	const bad = "not-the-token-5f1e"
	c, err := kv.NewREST(kv.RESTOptions{URL: f.URL(), Token: bad})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), "GET", "k")
	he := wantHTTPError(t, err, 401)
	if he.Msg != "Unauthorized" {
		t.Fatalf("Msg = %q", he.Msg)
	}
	if f.Requests() != 1 {
		t.Fatalf("requests=%d: a 401 was retried", f.Requests())
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c)} {
		if strings.Contains(s, bad) || strings.Contains(s, f.Token) {
			t.Fatalf("token leaked: %q", s)
		}
	}
}

func TestRESTGarbageJSON(t *testing.T) {
	f := newFront(t)
	c := f.Client(t, kv.RESTOptions{})
	f.Inject(kvtest.Fault{Kind: kvtest.FaultGarbage})
	_, err := c.Do(context.Background(), "GET", kvtest.Prefix(t)+"k")
	wantTransportError(t, err)
	f.Inject(kvtest.Fault{Kind: kvtest.FaultGarbage})
	_, err = c.Pipeline(context.Background(), []any{"GET", "a"}, []any{"GET", "b"})
	wantTransportError(t, err)
}

func TestREST400IsRedisError(t *testing.T) {
	f := newFront(t)
	c := f.Client(t, kv.RESTOptions{})
	_, err := c.Do(context.Background(), "GET") // wrong number of arguments
	var re *kv.RedisError
	if !errors.As(err, &re) || re.Prefix() != "ERR" || errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("err = %v, want a RedisError", err)
	}
	if f.Requests() != 1 {
		t.Fatalf("requests=%d: a Redis refusal was retried", f.Requests())
	}
}

func TestRESTClosedPort(t *testing.T) {
	c, err := kv.NewREST(kv.RESTOptions{URL: "http://" + kv.ClosedAddr(t), Token: "t", Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.Do(ctx, "SET", "k", "v")
	wantTransportError(t, err)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v: hung until the deadline instead of failing on the refused dial", err)
	}
}

func TestRESTSyncToken(t *testing.T) {
	f := newFront(t)
	c := f.Client(t, kv.RESTOptions{})
	k := kvtest.Prefix(t) + "k"
	for i := range 3 {
		if _, err := c.Do(context.Background(), "SET", k, i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Pipeline(context.Background(), []any{"GET", k}); err != nil {
		t.Fatal(err)
	}
	// The front numbers its answers 1, 2, 3...; each call carries the
	// token of the answer before it.
	wantEqual(t, "sync tokens sent", f.SyncTokens(), []string{"", "1", "2", "3"})
}

func TestRESTKeepAlive(t *testing.T) {
	f := newFront(t)
	a, b := f.Client(t, kv.RESTOptions{}), f.Client(t, kv.RESTOptions{})
	k := kvtest.Prefix(t) + "k"
	for i := range 20 {
		c := a
		if i%2 == 1 {
			c = b // a second client (a new invocation) shares the pool
		}
		if _, err := c.Do(context.Background(), "SET", k, i); err != nil {
			t.Fatal(err)
		}
	}
	if f.Conns() != 1 {
		t.Fatalf("%d connections for 20 sequential calls, want 1 reused", f.Conns())
	}
}

func TestRESTClosed(t *testing.T) {
	f := newFront(t)
	c := f.Client(t, kv.RESTOptions{})
	_ = c.Close()
	_, err := c.Do(context.Background(), "GET", "k")
	wantTransportError(t, err)
	if f.Requests() != 0 {
		t.Fatal("a closed client sent a request")
	}
}

// The front refuses bodies that are not valid UTF-8, as a JSON parser must:
// binary arguments only survive because the client never sends such bodies.
func TestFrontRefusesNonUTF8(t *testing.T) {
	f := newFront(t)
	req, _ := http.NewRequest(http.MethodPost, f.URL(), bytes.NewReader([]byte("[\"SET\",\"k\",\"\xff\"]")))
	req.Header.Set("Authorization", "Bearer "+f.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || f.Executed() != 0 {
		t.Fatalf("status %d, executed %d; want 400 and nothing run", resp.StatusCode, f.Executed())
	}
}

func TestRESTBinaryScriptCommandRefused(t *testing.T) {
	c := newFront(t).Client(t, kv.RESTOptions{})
	_, err := c.Do(context.Background(), "EVAL", "return ARGV[1]", 0, "\xff")
	if !errors.Is(err, kv.ErrInvalidArg) {
		t.Fatalf("EVAL with a non-UTF-8 argument via Do: %v, want ErrInvalidArg", err)
	}
}
