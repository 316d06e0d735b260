package kv

import (
	"net"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// miniRedis is a native client on an in-process miniredis server (what
// pkg/kv/embedded builds, without its expiry clock), for this package's
// internal tests, which cannot import pkg/kv/embedded: it imports kv.
func miniRedis(t testing.TB) *Redis {
	t.Helper()
	srv := miniredis.RunT(t)
	r := NewRedis(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// ClosedAddr is a loopback address nothing listens on (a port just bound
// and released), for the tests of a store that cannot be reached; exported
// to this package's external tests too.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// WithoutEmbedded makes Open see a binary without the embedded store (as a
// Vercel function is) until the test ends. Not for parallel tests.
func WithoutEmbedded(t testing.TB) {
	t.Helper()
	prev := startEmbedded.Swap(nil)
	t.Cleanup(func() { startEmbedded.Store(prev) })
}
