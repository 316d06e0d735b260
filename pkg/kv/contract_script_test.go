package kv_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
)

// uniqueScript makes a script whose SHA no other test (or earlier run) has
// loaded: on the shared real Redis its first call is a genuine NOSCRIPT.
func uniqueScript(p, body string) *kv.Script {
	return kv.NewScript("-- " + p + "\n" + body)
}

func TestContractScripts(t *testing.T) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		ctx, p := context.Background(), kvtest.Prefix(t)
		c := kv.NewCounting(tr.Client)
		s := uniqueScript(p, "return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}")
		key := p + "n"

		run := func(want int64, wantTrips [][]string) {
			t.Helper()
			c.Reset()
			v, err := c.Run(ctx, s, []string{key}, "arg")
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			wantEqual(t, "Run", v, []any{key, "arg", want})
			wantEqual(t, "trips", c.Log(), wantTrips)
		}
		fallback := [][]string{{"EVALSHA"}, {"SCRIPT", "EVALSHA"}}
		run(1, fallback)                // first call: NOSCRIPT, loaded in one more trip
		run(2, [][]string{{"EVALSHA"}}) // cached
		wantEqual(t, "SCRIPT EXISTS", do(t, tr.Client, "SCRIPT", "EXISTS", s.SHA()), []any{int64(1)})

		if tr.Real {
			// SCRIPT FLUSH would pull the scripts of every other package's
			// tests running against this Redis; the unique script's first
			// call above was the same situation from the client's side.
			t.Log("SCRIPT FLUSH skipped on the shared real Redis")
			return
		}
		do(t, tr.Client, "SCRIPT", "FLUSH") // behind the client's back
		wantEqual(t, "SCRIPT EXISTS after flush", do(t, tr.Client, "SCRIPT", "EXISTS", s.SHA()), []any{int64(0)})
		run(3, fallback)
		run(4, [][]string{{"EVALSHA"}})
	})
}

func TestContractLuaConversions(t *testing.T) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		ctx, c, p := context.Background(), tr.Client, kvtest.Prefix(t)
		for _, tc := range []struct {
			body string
			want any
		}{
			{"return 3.99", int64(3)},  // numbers truncate to integers
			{"return -2.5", int64(-2)}, // toward zero
			{"return true", int64(1)},
			{"return {1, 'two', {3, 'four'}}", []any{int64(1), "two", []any{int64(3), "four"}}},
			{"return {1, false, 'x'}", []any{int64(1), nil, "x"}}, // false inside a table is a nil
			{"return {1, nil, 'x'}", []any{int64(1)}},             // a Lua nil ends the array
			{"return {ok = 'FINE'}", "FINE"},
			{"return {1, redis.error_reply('E1 nested')}", []any{int64(1), &kv.RedisError{Msg: "E1 nested"}}},
			{"return ''", ""},
			{"return redis.call('SET', KEYS[1], 'v')", "OK"},
		} {
			v, err := c.Run(ctx, uniqueScript(p, tc.body), []string{p + "k"})
			if err != nil {
				t.Fatalf("%s: %v", tc.body, err)
			}
			wantEqual(t, tc.body, v, tc.want)
		}
		for _, body := range []string{"return false", "return nil", "return redis.call('GET', KEYS[1] .. 'missing')"} {
			if v, err := c.Run(ctx, uniqueScript(p, body), []string{p + "k"}); !errors.Is(err, kv.ErrNotFound) {
				t.Fatalf("%s = %#v, %v; want ErrNotFound", body, v, err)
			}
		}
		for _, tc := range []struct{ body, prefix string }{
			{"return redis.error_reply('MYERR boom')", "MYERR"},
			{"return redis.call('HGET', KEYS[1], 'f')", "WRONGTYPE"}, // KEYS[1] is a string by now
		} {
			_, err := c.Run(ctx, uniqueScript(p, tc.body), []string{p + "k"})
			var re *kv.RedisError
			if !errors.As(err, &re) || !strings.Contains(re.Msg, tc.prefix) || errors.Is(err, kv.ErrUnavailable) {
				t.Fatalf("%s: %v, want a RedisError with %s", tc.body, err, tc.prefix)
			}
		}
		_, err := c.Run(ctx, uniqueScript(p, "this is not lua"), nil)
		var re *kv.RedisError
		if !errors.As(err, &re) {
			t.Fatalf("a script that does not compile: %v, want a RedisError", err)
		}
	})
}

// allBytes holds every byte value, which is not valid UTF-8.
func allBytes() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}

func TestContractBinary(t *testing.T) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		ctx, c, p := context.Background(), tr.Client, kvtest.Prefix(t)
		bin := allBytes()
		key, val := p+bin, bin+"\xff\xfe"+strings.Repeat("\x00", 3)
		text := "quote\" backslash\\ nl\n nul\x00 tab\t é ✓ \u2028"

		wantEqual(t, "SET binary", do(t, c, "SET", key, []byte(val)), "OK")
		wantEqual(t, "GET binary", do(t, c, "GET", key), val)
		wantEqual(t, "STRLEN", do(t, c, "STRLEN", key), int64(len(val)))
		wantEqual(t, "SET text", do(t, c, "SET", p+text, text), "OK")
		wantEqual(t, "GET text", do(t, c, "GET", p+text), text)

		wantEqual(t, "HSET", do(t, c, "HSET", p+"h", bin, val), int64(1))
		wantEqual(t, "HGETALL", do(t, c, "HGETALL", p+"h"), []any{bin, val})

		res, err := c.Pipeline(ctx, []any{"SET", p + "p" + bin, bin}, []any{"GET", p + "p" + bin}, []any{"GET", key})
		if err != nil {
			t.Fatalf("Pipeline: %v", err)
		}
		wantEqual(t, "pipeline", res, []kv.Result{{Val: "OK"}, {Val: bin}, {Val: val}})

		s := uniqueScript(p, "redis.call('SET', KEYS[1], ARGV[1]); return {redis.call('GET', KEYS[1]), ARGV[2], #KEYS, #ARGV}")
		for range 2 { // NOSCRIPT path, then cached
			v, err := c.Run(ctx, s, []string{p + "s" + bin}, val, "plain")
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			wantEqual(t, "Run binary", v, []any{val, "plain", int64(1), int64(2)})
		}
		wantEqual(t, "GET after Run", do(t, c, "GET", p+"s"+bin), val)
	})
}
