package embedded_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/embedded"
)

func ExampleNew() {
	c, err := embedded.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ctx := context.Background()

	_, _ = c.Do(ctx, "SET", "greeting", "hello", "EX", 60)
	v, _ := c.Do(ctx, "GET", "greeting")
	fmt.Println(v)

	_, err = c.Do(ctx, "GET", "missing")
	fmt.Println(errors.Is(err, kv.ErrNotFound))
	// Output:
	// hello
	// true
}
