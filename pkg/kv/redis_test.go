package kv_test

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/kv"
)

func TestRedisClosedPortFailsFast(t *testing.T) {
	c, err := kv.NewRedisURL("redis://" + kv.ClosedAddr(t) + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, call := range []func() error{
		func() error { _, err := c.Do(ctx, "PING"); return err },
		func() error { _, err := c.Pipeline(ctx, []any{"GET", "a"}, []any{"GET", "b"}); return err },
		func() error { _, err := c.Run(ctx, kv.NewScript("return 1"), nil); return err },
	} {
		err := call()
		wantTransportError(t, err)
		// Refused by the kernel, not cut off by our 5s deadline: no hang.
		if !errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want connection refused", err)
		}
	}
}

func TestNewRedisURLHidesPassword(t *testing.T) {
	for _, raw := range []string{
		"redis://user:s3cretpw@127.0.0.1:6379/notanumber",
		"redis://user:s3cretpw@[::1:6379/0",
		"http://user:s3cretpw@127.0.0.1:6379/0",
	} {
		_, err := kv.NewRedisURL(raw)
		if !errors.Is(err, kv.ErrConfig) || strings.Contains(err.Error(), "s3cretpw") {
			t.Fatalf("NewRedisURL(%q) = %v, want ErrConfig without the password", raw, err)
		}
	}
}
