package kv_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
)

// The contract suite: the same assertions on every transport (kvtest.Each:
// embedded, REST over miniredis; with REDIS_URL also native Redis and REST
// over that Redis). Keys live under kvtest.Prefix; nothing is flushed on
// the shared real Redis.

func do(t *testing.T, c kv.Client, args ...any) any {
	t.Helper()
	v, err := c.Do(context.Background(), args...)
	if err != nil {
		t.Fatalf("%v: %v", args[0], err)
	}
	return v
}

func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s = %#v, want %#v", what, got, want)
	}
}

func wantNotFound(t *testing.T, c kv.Client, args ...any) {
	t.Helper()
	v, err := c.Do(context.Background(), args...)
	if !errors.Is(err, kv.ErrNotFound) || v != nil {
		t.Fatalf("%v = %#v, %v; want nil, ErrNotFound", args, v, err)
	}
}

func wantInRange(t *testing.T, what string, v any, lo, hi int64) {
	t.Helper()
	n, ok := v.(int64)
	if !ok || n < lo || n > hi {
		t.Fatalf("%s = %#v, want int64 in [%d, %d]", what, v, lo, hi)
	}
}

// expire waits until key is gone: FastForward on miniredis, a bounded poll
// on a real Redis (the key's TTL is a few milliseconds).
func expire(t *testing.T, tr kvtest.Named, key string, ttl time.Duration) {
	t.Helper()
	if tr.Mini != nil {
		tr.Mini.FastForward(ttl + time.Millisecond)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if n := do(t, tr.Client, "EXISTS", key); n == int64(0) {
			return
		}
	}
	t.Fatalf("%s did not expire", key)
}

func TestContractStrings(t *testing.T) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		c, p := tr.Client, kvtest.Prefix(t)
		k := p + "s"
		wantEqual(t, "SET EX", do(t, c, "SET", k, "v1", "EX", 100), "OK")
		wantEqual(t, "GET", do(t, c, "GET", k), "v1")
		wantInRange(t, "TTL after EX 100", do(t, c, "TTL", k), 1, 100)

		wantEqual(t, "SET KEEPTTL", do(t, c, "SET", k, "v2", "KEEPTTL"), "OK")
		wantInRange(t, "TTL after KEEPTTL", do(t, c, "TTL", k), 1, 100)
		wantEqual(t, "GET", do(t, c, "GET", k), "v2")

		wantEqual(t, "SET plain", do(t, c, "SET", k, "v3"), "OK")
		wantEqual(t, "TTL after plain SET", do(t, c, "TTL", k), int64(-1))

		wantEqual(t, "SET PX", do(t, c, "SET", k, "v4", "PX", 1500), "OK")
		wantInRange(t, "PTTL after PX 1500", do(t, c, "PTTL", k), 1, 1500)

		wantNotFound(t, c, "SET", k, "v5", "NX") // nil reply: not set
		wantNotFound(t, c, "GET", p+"missing")
		wantEqual(t, "TTL missing", do(t, c, "TTL", p+"missing"), int64(-2))

		wantEqual(t, "INCR", do(t, c, "INCR", p+"n"), int64(1))
		wantEqual(t, "INCRBY", do(t, c, "INCRBY", p+"n", int64(41)), int64(42))

		short := p + "short"
		do(t, c, "SET", short, "x", "PX", 30)
		expire(t, tr, short, 30*time.Millisecond)
		wantNotFound(t, c, "GET", short)
	})
}

func TestContractEmptyAndNil(t *testing.T) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		c, p := tr.Client, kvtest.Prefix(t)
		do(t, c, "SET", p+"empty", "")
		wantEqual(t, "GET empty", do(t, c, "GET", p+"empty"), "")
		wantNotFound(t, c, "GET", p+"none")
		wantEqual(t, "MGET", do(t, c, "MGET", p+"empty", p+"none"), []any{"", nil})
		wantEqual(t, "LRANGE missing", do(t, c, "LRANGE", p+"none", 0, -1), []any{})
		wantEqual(t, "HGETALL missing", do(t, c, "HGETALL", p+"none"), []any{})
		wantEqual(t, "DEL missing", do(t, c, "DEL", p+"none"), int64(0))
	})
}

func TestContractHashes(t *testing.T) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		c, k := tr.Client, kvtest.Prefix(t)+"h"
		wantEqual(t, "HSET", do(t, c, "HSET", k, "f1", "v1", "f2", "v2"), int64(2))
		wantEqual(t, "HGET", do(t, c, "HGET", k, "f1"), "v1")
		wantNotFound(t, c, "HGET", k, "nope")
		wantEqual(t, "HMGET", do(t, c, "HMGET", k, "f2", "nope"), []any{"v2", nil})
		wantEqual(t, "HINCRBY", do(t, c, "HINCRBY", k, "n", 5), int64(5))
		wantEqual(t, "HLEN", do(t, c, "HLEN", k), int64(3))
		all, _ := do(t, c, "HGETALL", k).([]any)
		got := map[any]any{}
		for i := 0; i+1 < len(all); i += 2 {
			got[all[i]] = all[i+1]
		}
		wantEqual(t, "HGETALL", got, map[any]any{"f1": "v1", "f2": "v2", "n": "5"})
		wantEqual(t, "HDEL", do(t, c, "HDEL", k, "f1", "nope"), int64(1))
		wantEqual(t, "HEXISTS", do(t, c, "HEXISTS", k, "f1"), int64(0))
	})
}

func TestContractSortedSets(t *testing.T) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		c, k := tr.Client, kvtest.Prefix(t)+"z"
		wantEqual(t, "ZADD", do(t, c, "ZADD", k, 1, "a", 2.5, "b", int64(3), "c"), int64(3))
		wantEqual(t, "ZRANGE", do(t, c, "ZRANGE", k, 0, -1, "WITHSCORES"), []any{"a", "1", "b", "2.5", "c", "3"})
		wantEqual(t, "ZRANGEBYSCORE (1 3", do(t, c, "ZRANGEBYSCORE", k, "(1", 3), []any{"b", "c"})
		wantEqual(t, "ZREVRANGE", do(t, c, "ZREVRANGE", k, 0, 0), []any{"c"})
		wantEqual(t, "ZSCORE", do(t, c, "ZSCORE", k, "b"), "2.5")
		wantNotFound(t, c, "ZSCORE", k, "nope")
		wantEqual(t, "ZCARD", do(t, c, "ZCARD", k), int64(3))
		wantEqual(t, "ZREMRANGEBYSCORE", do(t, c, "ZREMRANGEBYSCORE", k, "-inf", "(2.5"), int64(1))
		wantEqual(t, "ZREM", do(t, c, "ZREM", k, "c", "nope"), int64(1))
		wantEqual(t, "ZRANGE after", do(t, c, "ZRANGE", k, 0, -1), []any{"b"})
	})
}

func TestContractStreams(t *testing.T) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		c, k := tr.Client, kvtest.Prefix(t)+"x"
		for _, id := range []string{"1-1", "2-1", "3-1"} {
			wantEqual(t, "XADD "+id, do(t, c, "XADD", k, id, "f", "v"+id), id)
		}
		entry := func(id string) any { return []any{id, []any{"f", "v" + id}} }
		wantEqual(t, "XRANGE - +", do(t, c, "XRANGE", k, "-", "+"), []any{entry("1-1"), entry("2-1"), entry("3-1")})
		wantEqual(t, "XRANGE (1-1 +", do(t, c, "XRANGE", k, "(1-1", "+"), []any{entry("2-1"), entry("3-1")})
		wantEqual(t, "XREVRANGE + - COUNT 1", do(t, c, "XREVRANGE", k, "+", "-", "COUNT", 1), []any{entry("3-1")})
		wantEqual(t, "XREVRANGE (3-1 -", do(t, c, "XREVRANGE", k, "(3-1", "-"), []any{entry("2-1"), entry("1-1")})
		wantEqual(t, "XTRIM MINID", do(t, c, "XTRIM", k, "MINID", "2-1"), int64(1))
		wantEqual(t, "XLEN", do(t, c, "XLEN", k), int64(2))
		id, ok := do(t, c, "XADD", k, "*", "f", "auto").(string)
		if !ok || id == "" {
			t.Fatalf("XADD * = %#v, want an id string", id)
		}
		wantEqual(t, "XRANGE empty", do(t, c, "XRANGE", k, "(99999999999999-0", "+"), []any{})
	})
}

func TestContractPipeline(t *testing.T) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		c, p := tr.Client, kvtest.Prefix(t)
		res, err := c.Pipeline(context.Background(),
			[]any{"SET", p + "a", "1"},
			[]any{"INCR", p + "a"},
			[]any{"HSET", p + "a", "f", "v"}, // WRONGTYPE, in the middle
			[]any{"GET", p + "a"},
			[]any{"GET", p + "missing"},
		)
		if err != nil {
			t.Fatalf("Pipeline: %v", err)
		}
		if len(res) != 5 {
			t.Fatalf("Pipeline: %d results, want 5", len(res))
		}
		wantEqual(t, "res[0]", res[0], kv.Result{Val: "OK"})
		wantEqual(t, "res[1]", res[1], kv.Result{Val: int64(2)})
		var re *kv.RedisError
		if !errors.As(res[2].Err, &re) || re.Prefix() != "WRONGTYPE" || errors.Is(res[2].Err, kv.ErrUnavailable) {
			t.Fatalf("res[2] = %#v, want a WRONGTYPE RedisError", res[2])
		}
		wantEqual(t, "res[3]", res[3], kv.Result{Val: "2"})
		wantEqual(t, "res[4]", res[4], kv.Result{Err: kv.ErrNotFound})

		empty, err := c.Pipeline(context.Background())
		if err != nil || len(empty) != 0 {
			t.Fatalf("empty Pipeline = %v, %v", empty, err)
		}
	})
}

func TestContractErrors(t *testing.T) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		c, p := tr.Client, kvtest.Prefix(t)
		do(t, c, "SET", p+"s", "x")
		_, err := c.Do(context.Background(), "HGET", p+"s", "f")
		var re *kv.RedisError
		if !errors.As(err, &re) || re.Prefix() != "WRONGTYPE" {
			t.Fatalf("HGET on a string: %v, want WRONGTYPE", err)
		}
		if errors.Is(err, kv.ErrUnavailable) {
			t.Fatalf("a Redis refusal must not be ErrUnavailable: %v", err)
		}
		if _, err = c.Do(context.Background(), "NOSUCHCOMMAND", "x"); !errors.As(err, &re) {
			t.Fatalf("unknown command: %v, want a RedisError", err)
		}
		if _, err = c.Do(context.Background(), "SET", p+"s", struct{}{}); !errors.Is(err, kv.ErrInvalidArg) {
			t.Fatalf("struct argument: %v, want ErrInvalidArg", err)
		}
	})
}

func TestContractContext(t *testing.T) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		c, p := tr.Client, kvtest.Prefix(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for name, call := range map[string]func() error{
			"Do":       func() error { _, err := c.Do(ctx, "GET", p+"k"); return err },
			"Pipeline": func() error { _, err := c.Pipeline(ctx, []any{"GET", p + "k"}); return err },
			"Run":      func() error { _, err := c.Run(ctx, kv.NewScript("return 1"), nil); return err },
		} {
			err := call()
			var te *kv.TransportError
			if !errors.Is(err, context.Canceled) || !errors.Is(err, kv.ErrUnavailable) || !errors.As(err, &te) {
				t.Fatalf("%s with a cancelled context: %v, want a TransportError wrapping context.Canceled", name, err)
			}
		}

		// A deadline that expires while the store is busy (BLPOP blocks).
		dctx, dcancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer dcancel()
		_, err := c.Do(dctx, "BLPOP", p+"list", "0.5")
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, kv.ErrUnavailable) {
			t.Fatalf("BLPOP past the deadline: %v, want DeadlineExceeded and ErrUnavailable", err)
		}
		// The client is still usable afterwards.
		wantEqual(t, "SET after deadline", do(t, c, "SET", p+"k", "v"), "OK")
		wantEqual(t, "GET after deadline", do(t, c, "GET", p+"k"), "v")
	})
}
