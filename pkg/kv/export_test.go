package kv

import (
	"net"
	"testing"
)

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
