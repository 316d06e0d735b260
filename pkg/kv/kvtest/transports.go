package kvtest

import (
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/embedded"
)

// SkipMessage is how tests that need a real Redis say how to enable them.
const SkipMessage = "set REDIS_URL=redis://127.0.0.1:6379/0 to run against real Redis"

// RedisURL returns $REDIS_URL, the real Redis the suites may use, or "".
func RedisURL() string { return os.Getenv("REDIS_URL") }

// Transport names.
const (
	Embedded  = "embedded"       // kv.NewEmbedded
	Redis     = "redis"          // kv.NewRedisURL($REDIS_URL)
	RESTMini  = "rest-miniredis" // kv.REST over a Front over miniredis
	RESTRedis = "rest-redis"     // kv.REST over a Front over $REDIS_URL
)

// Named is one transport for contract-style tests.
type Named struct {
	Name   string
	Client kv.Client
	// Mini is the in-process server behind Client (Embedded, RESTMini), for
	// FastForward; nil when Client reaches a real Redis.
	Mini *miniredis.Miniredis
	// Front is the Upstash-protocol front of the REST transports, else nil.
	Front *Front
	// Real is true when Client reaches the shared real Redis: never flush
	// it, and keep keys under Prefix(t).
	Real bool
}

// Transports returns fresh clients, closed at the end of the test, for
// every transport available: always Embedded; with REDIS_URL set, Redis and
// RESTRedis (the REST transport over real HTTP to the real Redis);
// without it, RESTMini, so that the REST transport is exercised on every
// run. When REDIS_URL is unset it logs SkipMessage.
func Transports(tb testing.TB) []Named {
	tb.Helper()
	e, err := embedded.New()
	if err != nil {
		tb.Fatalf("kvtest: %v", err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	out := []Named{{Name: Embedded, Client: e, Mini: e.Server()}}

	url := RedisURL()
	if url == "" {
		tb.Log("kvtest: real Redis transports skipped: " + SkipMessage)
		f := NewUpstashFront(tb, "")
		return append(out, Named{Name: RESTMini, Client: f.Client(tb, kv.RESTOptions{}), Mini: f.Mini(), Front: f})
	}
	r, err := kv.NewRedisURL(url)
	if err != nil {
		tb.Fatalf("kvtest: REDIS_URL: %v", err)
	}
	tb.Cleanup(func() { _ = r.Close() })
	f := NewUpstashFront(tb, url)
	return append(out,
		Named{Name: Redis, Client: r, Real: true},
		Named{Name: RESTRedis, Client: f.Client(tb, kv.RESTOptions{}), Front: f, Real: true},
	)
}

// Each runs fn as a subtest per transport of Transports. Without REDIS_URL
// the real-Redis transports appear as skipped subtests carrying
// SkipMessage, so `go test -v` shows what did not run and why.
func Each(t *testing.T, fn func(t *testing.T, tr Named)) {
	t.Helper()
	for _, tr := range Transports(t) {
		t.Run(tr.Name, func(t *testing.T) { fn(t, tr) })
	}
	if RedisURL() == "" {
		for _, name := range []string{Redis, RESTRedis} {
			t.Run(name, func(t *testing.T) { t.Skip(SkipMessage) })
		}
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Prefix returns a key prefix unique to this test and run, such as
// "kvtest:TestX_sub:1f2e3d4c:". Tests that share the real Redis (packages
// run in parallel) must keep every key under their prefix and never flush.
// With REDIS_URL set, the keys under the prefix are deleted when the test
// ends. The prefix holds no glob characters, so "prefix*" matches exactly
// its keys.
func Prefix(tb testing.TB) string {
	tb.Helper()
	p := "kvtest:" + unsafeName.ReplaceAllString(tb.Name(), "_") + ":" + randomHex(4) + ":"
	if url := RedisURL(); url != "" {
		tb.Cleanup(func() { deleteUnder(tb, url, p) })
	}
	return p
}

func deleteUnder(tb testing.TB, url, prefix string) {
	c, err := kv.NewRedisURL(url)
	if err != nil {
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cursor := "0"
	for {
		v, err := c.Do(ctx, "SCAN", cursor, "MATCH", prefix+"*", "COUNT", 1000)
		if err != nil {
			tb.Logf("kvtest: cleanup of %s: %v", prefix, err)
			return
		}
		pair, _ := v.([]any)
		if len(pair) != 2 {
			return
		}
		keys, _ := pair[1].([]any)
		if len(keys) > 0 {
			if _, err := c.Do(ctx, append([]any{"UNLINK"}, keys...)...); err != nil {
				tb.Logf("kvtest: cleanup of %s: %v", prefix, err)
				return
			}
		}
		cursor, _ = pair[0].(string)
		if cursor == "0" || cursor == "" {
			return
		}
	}
}
