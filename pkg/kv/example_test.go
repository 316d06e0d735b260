package kv_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/embedded"
)

// With nothing configured, Open starts the embedded store (this test binary
// imports pkg/kv/embedded, which registers it).
func ExampleOpen() {
	c, info, err := kv.Open(func(string) string { return "" })
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println(info.Transport)

	_, _, err = kv.Open(func(k string) string {
		return map[string]string{"KV_REST_API_URL": "https://example.upstash.io"}[k]
	})
	fmt.Println(err)
	// Output:
	// embedded
	// kv: bad configuration: KV_REST_API_URL is set but KV_REST_API_TOKEN is empty
}

func ExampleClient_pipeline() {
	c, _ := embedded.New()
	defer c.Close()

	res, err := c.Pipeline(context.Background(),
		[]any{"SET", "n", "1"},
		[]any{"HGET", "n", "f"}, // fails: n holds a string
		[]any{"INCR", "n"},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		var re *kv.RedisError
		if errors.As(r.Err, &re) {
			fmt.Println("error:", re.Prefix())
			continue
		}
		fmt.Println(r.Val)
	}
	// Output:
	// OK
	// error: WRONGTYPE
	// 2
}

func ExampleNewScript() {
	c, _ := embedded.New()
	defer c.Close()

	// Check-then-write in one atomic step: set only if the value is unchanged.
	cas := kv.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2])
end
return false`)
	ctx := context.Background()
	_, _ = c.Do(ctx, "SET", "k", "old")
	v, err := c.Run(ctx, cas, []string{"k"}, "old", "new")
	fmt.Println(v, err)
	_, err = c.Run(ctx, cas, []string{"k"}, "old", "newer")
	fmt.Println(errors.Is(err, kv.ErrNotFound))
	// Output:
	// OK <nil>
	// true
}

func ExampleNewCounting() {
	e, _ := embedded.New()
	c := kv.NewCounting(e)
	defer c.Close()
	ctx := context.Background()

	s := kv.NewScript("return redis.call('INCR', KEYS[1])")
	_, _ = c.Run(ctx, s, []string{"hits"}) // not loaded yet: NOSCRIPT, then load
	_, _ = c.Run(ctx, s, []string{"hits"})
	fmt.Println(c.Trips(), c.Log())
	// Output:
	// 3 [[EVALSHA] [SCRIPT EVALSHA] [EVALSHA]]
}
